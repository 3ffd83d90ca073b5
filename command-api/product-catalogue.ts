import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Money } from '../domain/decider';
import { logEndOffsets } from '../lib/kafka';
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
 */
export class ProductCatalogue {
  private readonly products = new Map<string, CatalogueEntry>();
  /** command id → the product it created (from the ProductCreated event's headers). */
  private readonly creations = new Map<string, string>();
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, bigint>();
  private readonly progress = new Set<() => void>();

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly eventsTopic: string,
    groupPrefix: string,
  ) {
    this.admin = kafka.admin();
    this.consumer = kafka.consumer({
      groupId: `${groupPrefix}.command-api.catalogue.${randomUUID()}`,
      maxWaitTimeInMs: 50,
      readUncommitted: false,
    });
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.positions.set(payload.partition, BigInt(payload.lastOffset) + 1n);
      for (const notify of this.progress) notify();
    });
    await this.consumer.subscribe({ topic: this.eventsTopic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          const { event, meta } = decodeEvent(message);
          this.apply(event);
          if (event.type === 'ProductCreated') {
            this.creations.set(meta.commandId, String(event.productId));
          }
        } catch (err) {
          this.logger.warn({ err, offset: message.offset }, 'unreadable product event');
        }
      },
    });
  }

  private apply(event: { type: string } & Record<string, unknown>): void {
    const productId = String(event.productId);
    const entry = this.products.get(productId);
    switch (event.type) {
      case 'ProductCreated':
        this.products.set(productId, { price: event.price as Money, discontinued: false });
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
    const known = this.creations.get(commandId);
    if (known) return known;
    await this.catchUp(timeoutMs);
    return this.creations.get(commandId);
  }

  private async catchUp(timeoutMs: number): Promise<void> {
    const ends = await logEndOffsets(this.admin, this.eventsTopic);
    const caughtUp = () =>
      ends.every(
        ({ partition, high, low }) =>
          (this.positions.get(partition) ?? BigInt(low)) >= BigInt(high),
      );
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
    await Promise.all([this.consumer.disconnect(), this.admin.disconnect()]);
  }
}
