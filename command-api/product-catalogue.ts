import type { Money } from '../domain/decider';
import { type DomainEvent, type DomainEventType, hasTypeIn } from '../domain/events';
import { ORDER_EVENT_TYPES } from '../domain/order/events';
import type { KafkaAdmin, KafkaClient, LogReader, PartitionOffsets } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { decodeEvent } from '../schemas/codec';
import { OverloadedError } from './command-router';

export interface CatalogueEntry {
  price: Money;
  discontinued: boolean;
}

/** The product events that change neither a price nor whether a product is sold, and orders'. */
const CATALOGUE_IGNORES = [
  'ProductDetailsUpdated',
  'ProductRestocked',
  'StockReserved',
  'ReservationReleased',
  'ReservationCommitted',
  'ProductPurchaseLimitSet',
  ...ORDER_EVENT_TYPES,
] as const satisfies readonly DomainEventType[];

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
  /** The next question about the log's end, shared by the lookups waiting to send it. */
  private nextEnds: Promise<PartitionOffsets[]> | undefined;
  /** The question about the log's end on its way. */
  private endsInFlight: Promise<unknown> | undefined;

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

  private apply(event: DomainEvent, commandId: string): void {
    if (hasTypeIn(CATALOGUE_IGNORES, event)) return;
    const entry = this.products.get(event.productId);
    switch (event.type) {
      case 'ProductCreated':
        this.products.set(event.productId, { price: event.price, discontinued: false });
        this.createdBy.set(commandId, event.productId);
        break;
      case 'ProductPriceChanged':
        if (entry) entry.price = event.price;
        break;
      case 'ProductDiscontinued':
        if (entry) entry.discontinued = true;
        break;
      default:
        event satisfies never;
    }
  }

  /**
   * The product as the log has it now: an id not yet seen waits (up to `timeoutMs`) until
   * this catalogue has read up to the current end of the log, so a product created just
   * before is found. Undefined: no such product. Still behind the log after the wait (a busy
   * process): an OverloadedError, since the product may well exist.
   */
  async lookup(productId: string, timeoutMs: number): Promise<CatalogueEntry | undefined> {
    const known = this.products.get(productId);
    if (known) return known;
    const caughtUp = await this.catchUp(timeoutMs);
    const found = this.products.get(productId);
    if (!found && !caughtUp)
      throw new OverloadedError(1, 'the product catalogue is still reading the product events');
    return found;
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

  /**
   * The log's end as it is now or later. Lookups that miss at the same moment share one
   * question, but never one already sent: an end asked before this lookup began may predate
   * the product it looks for (CI answered 422 for a product created a moment before).
   */
  private logEnds(): Promise<PartitionOffsets[]> {
    this.nextEnds ??= (async () => {
      await this.endsInFlight?.catch(() => undefined);
      this.nextEnds = undefined;
      const query = this.admin.offsets(this.eventsTopic);
      this.endsInFlight = query;
      return query;
    })();
    return this.nextEnds;
  }

  /** Whether this catalogue has read up to the log's end within `timeoutMs`. */
  private async catchUp(timeoutMs: number): Promise<boolean> {
    const ends = await this.logEnds();
    const caughtUp = () =>
      ends.every(({ partition, low, high }) => (this.positions.get(partition) ?? low) >= high);
    if (caughtUp()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      function finish(reached: boolean) {
        clearTimeout(timer);
        progress.delete(check);
        resolve(reached);
      }
      const progress = this.progress;
      const check = () => caughtUp() && finish(true);
      progress.add(check);
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.reader.close(), this.admin.close()]);
  }
}
