import type { Money } from '../domain/decider';
import type { KafkaAdmin, KafkaClient, LogReader, PartitionOffsets } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { decodeEvent } from '../schemas/codec';

export interface CatalogueEntry {
  price: Money;
  discontinued: boolean;
}

/**
 * What the command API needs to price an order: every product's current price and whether it
 * is sold, read from the product events (each instance reads them all). The order's owner may
 * sit in another process than the product's, so prices come from the log, not its memory.
 * It also remembers which product each create command made (for Idempotency-Key reuse checks).
 */
export class ProductCatalogue {
  private readonly products = new Map<string, CatalogueEntry>();
  private readonly createdBy = new Map<string, string>();
  private readonly reader: LogReader;
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, bigint>();
  private readonly progress = new Set<() => void>();
  private readonly admin: KafkaAdmin;
  /** The log's end as last asked, shared by concurrent lookups of unknown products. */
  private ends: Promise<PartitionOffsets[]> | undefined;

  constructor(
    readonly kafka: KafkaClient,
    private readonly logger: Logger,
    private readonly eventsTopic: string,
  ) {
    this.reader = kafka.reader();
    this.admin = kafka.admin();
  }

  async start(): Promise<void> {
    const ranges = (await this.admin.offsets(this.eventsTopic)).map(({ partition, low }) => ({
      topic: this.eventsTopic,
      partition,
      from: low,
    }));
    this.reader
      .read(
        ranges,
        ({ records }) => {
          for (const record of records) {
            try {
              const { event, meta } = decodeEvent(record);
              this.apply(event, meta.commandId);
            } catch (err) {
              this.logger.warn({ err, offset: String(record.offset) }, 'unreadable product event');
            }
          }
        },
        ({ partition, offset }) => {
          this.positions.set(partition, offset);
          for (const notify of this.progress) notify();
        },
      )
      .catch((err: unknown) => this.logger.error({ err }, 'reading the product events failed'));
  }

  private apply(event: { type: string } & Record<string, unknown>, commandId: string): void {
    const productId = String(event.productId);
    const entry = this.products.get(productId);
    switch (event.type) {
      case 'ProductCreated':
        this.products.set(productId, { price: event.price as Money, discontinued: false });
        this.createdBy.set(commandId, productId);
        break;
      case 'ProductPriceChanged':
        if (entry) entry.price = event.price as Money;
        break;
      case 'ProductDiscontinued':
        if (entry) entry.discontinued = true;
        break;
    }
  }

  /**
   * The product as the log has it now: an id not yet seen waits (up to `timeoutMs`) until
   * this catalogue has read up to the current end of the log, so a product created just
   * before is found.
   */
  async lookup(productId: string, timeoutMs: number): Promise<CatalogueEntry | undefined> {
    const known = this.products.get(productId);
    if (known) return known;
    await this.catchUp(timeoutMs);
    return this.products.get(productId);
  }

  /**
   * The product command `commandId` created, as the log has it now (waiting up to `timeoutMs`
   * to read up to the log's end when not yet seen); undefined if it created none.
   */
  async creationOf(commandId: string, timeoutMs: number): Promise<string | undefined> {
    const known = this.createdBy.get(commandId);
    if (known) return known;
    await this.catchUp(timeoutMs);
    return this.createdBy.get(commandId);
  }

  private async catchUp(timeoutMs: number): Promise<void> {
    // Lookups that miss at the same moment share one question about the log's end.
    this.ends ??= this.admin.offsets(this.eventsTopic).finally(() => {
      this.ends = undefined;
    });
    const ends = await this.ends;
    const caughtUp = () =>
      ends.every(({ partition, low, high }) => (this.positions.get(partition) ?? low) >= high);
    if (caughtUp()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      function finish() {
        clearTimeout(timer);
        progress.delete(check);
        resolve();
      }
      const progress = this.progress;
      const check = () => caughtUp() && finish();
      progress.add(check);
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.reader.close(), this.admin.close()]);
  }
}
