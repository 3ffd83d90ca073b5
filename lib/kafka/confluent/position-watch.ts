import type { KafkaConsumer, LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import type { TopicPartition, TopicPartitionOffset } from '../port';

const keyOf = (p: TopicPartition): string => `${p.topic}#${p.partition}`;
/** How often idle partitions are looked at for markers that came after their last batch. */
const POLL_MS = 500;

type ConsumeCallback = (err: LibrdKafkaError | null, messages: Message[]) => void;
/** The one form of `consume` the KafkaJS-compatible consumer calls on its librdkafka client. */
interface Consumes {
  consume(size: number, cb: ConsumeCallback): void;
}

/**
 * Tells a group member's position past records it never delivers (transaction markers,
 * aborted transactions), which the KafkaJS-compatible API does not. librdkafka's `position()`
 * moves past them as the API takes records from it, but it runs ahead of delivery: the API
 * caches what it takes. So the position is read only while no take is under way (every record
 * taken so far has then been announced by a `data` event), and used only if no record taken
 * of that partition lies at or past where delivery stands: what lies between is never
 * delivered. It is read for each batch (its nextOffset), after each batch settles, and, for
 * markers that arrive later, on a timer.
 */
export class PositionWatch {
  private readonly owned = new Map<string, TopicPartition>();
  /** Per partition: one past the highest offset librdkafka handed over (never lowered). */
  private readonly fetched = new Map<string, bigint>();
  /** Per partition: the next offset after what was delivered, once known (a start or a batch). */
  private readonly delivered = new Map<string, bigint>();
  /** Takes (`consume` calls) under way. */
  private taking = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly native: KafkaConsumer,
    private readonly report: (position: TopicPartitionOffset) => void,
  ) {
    native.on('data', (m) => {
      const key = keyOf(m);
      const next = BigInt(m.offset) + 1n;
      if (next > (this.fetched.get(key) ?? -1n)) this.fetched.set(key, next);
    });
    // Counts takes under way; a take announces its records (`data`) before it calls back.
    const client = native as unknown as Consumes;
    const consume = client.consume.bind(native);
    client.consume = (size, cb) => {
      this.taking += 1;
      try {
        consume(size, (err, messages) => {
          this.taking -= 1;
          cb(err, messages);
        });
      } catch (err) {
        this.taking -= 1;
        throw err;
      }
    };
    this.timer = setInterval(() => this.check([...this.owned.values()]), POLL_MS);
    this.timer.unref();
  }

  /** `p` is assigned, delivered from `start` when it was sought there (unknown otherwise). */
  assigned(p: TopicPartition, start: bigint | undefined): void {
    this.owned.set(keyOf(p), p);
    if (start === undefined) this.delivered.delete(keyOf(p));
    else this.delivered.set(keyOf(p), start);
  }

  revoked(p: TopicPartition): void {
    this.owned.delete(keyOf(p));
    this.delivered.delete(keyOf(p));
  }

  /** A seek outside an assignment: where `p` stands is unknown until a batch from there. */
  sought(p: TopicPartition): void {
    this.delivered.delete(keyOf(p));
  }

  /**
   * Where `p`'s next record can be after a batch ending before `next`: past the markers and
   * aborted records that follow, when they were taken already (undefined otherwise).
   */
  nextAfter(p: TopicPartition, next: bigint): bigint | undefined {
    const fetched = this.fetched.get(keyOf(p));
    if (this.taking > 0 || (fetched !== undefined && fetched > next)) return undefined;
    try {
      const [position] = this.native.position([p]);
      const offset = position?.offset;
      return typeof offset === 'number' && BigInt(offset) > next ? BigInt(offset) : undefined;
    } catch {
      return undefined;
    }
  }

  /** A batch of `p` ending before `next` was delivered and settled. */
  deliveredUpTo(p: TopicPartition, next: bigint): void {
    if (!this.owned.has(keyOf(p))) return;
    this.delivered.set(keyOf(p), next);
    this.check([p]);
  }

  private check(partitions: TopicPartition[]): void {
    if (this.taking > 0 || partitions.length === 0) return;
    const waiting = partitions.filter((p) => {
      const delivered = this.delivered.get(keyOf(p));
      const fetched = this.fetched.get(keyOf(p));
      return delivered !== undefined && (fetched === undefined || fetched <= delivered);
    });
    if (waiting.length === 0) return;
    let positions: { topic: string; partition: number; offset?: number }[];
    try {
      positions = this.native.position(waiting);
    } catch {
      return; // closing or rebalancing: the next check tries again
    }
    for (const { topic, partition, offset } of positions) {
      const key = keyOf({ topic, partition });
      const delivered = this.delivered.get(key);
      if (typeof offset !== 'number' || offset < 0 || delivered === undefined) continue;
      if (BigInt(offset) <= delivered) continue;
      this.delivered.set(key, BigInt(offset));
      this.report({ topic, partition, offset: BigInt(offset) });
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
