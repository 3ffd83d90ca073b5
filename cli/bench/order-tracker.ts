import type { ConsumedRecord, KafkaClient, LogReader } from '../../lib/kafka';
import type { EndOffsets } from './log-offsets';

const header = (r: ConsumedRecord, name: string) => r.headers[name]?.toString('utf8');

/**
 * Follows the order events from a snapshot on and keeps track of the orders placed by callers
 * whose actor starts with `actorPrefix` (e.g. `customer:flash-`): which are placed, confirmed,
 * cancelled. Settled = confirmed or cancelled.
 */
export class OrderTracker {
  readonly placed = new Set<string>();
  readonly confirmed = new Set<string>();
  readonly cancelled = new Set<string>();
  /** When the latest of them settled (ms since the epoch, as seen here). */
  lastSettledAt = 0;
  private reader: LogReader | undefined;
  private following: Promise<void> | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly topic: string,
    private readonly actorPrefix: string,
  ) {}

  get settled(): number {
    return this.confirmed.size + this.cancelled.size;
  }

  /** Starts following from `from` (the topic's end offsets before the orders were placed). */
  start(from: EndOffsets): void {
    const ranges = [...from]
      .filter(([key]) => key.startsWith(`${this.topic}#`))
      .map(([key, offset]) => ({
        topic: this.topic,
        partition: Number(key.slice(key.lastIndexOf('#') + 1)),
        from: offset,
      }));
    this.reader = this.kafka.reader();
    this.following = this.reader
      .read(ranges, (batch) => {
        for (const record of batch.records) this.see(record);
        for (const wake of this.waiters) wake();
      })
      .catch(() => undefined);
  }

  private see(record: ConsumedRecord): void {
    const type = header(record, 'event-type');
    const id = header(record, 'aggregate-id');
    if (!type || !id) return;
    if (type === 'OrderPlaced') {
      if (header(record, 'actor')?.startsWith(this.actorPrefix)) this.placed.add(id);
      return;
    }
    if (!this.placed.has(id)) return;
    if (type === 'OrderConfirmed') this.confirmed.add(id);
    else if (type === 'OrderCancelled') this.cancelled.add(id);
    else return;
    this.lastSettledAt = Date.now();
  }

  /**
   * Resolves true once `done()` holds (checked at every event batch and twice a second, for
   * conditions on more than the events), false if `timeoutMs` passes first.
   */
  waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (done()) finish(true);
      };
      const finish = (value: boolean) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        clearInterval(poll);
        resolve(value);
      };
      const timer = setTimeout(() => finish(done()), timeoutMs);
      const poll = setInterval(check, 500);
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await this.reader?.close().catch(() => undefined);
    await this.following;
  }
}
