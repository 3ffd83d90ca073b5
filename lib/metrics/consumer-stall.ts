import { type PartitionLag, totalLag } from './consumer-lag';

/** A consumer that has records to process and has processed none of them for a while. */
export interface Stall {
  /** Records behind, summed over the partitions. */
  lag: bigint;
  /** Since when records waited for it while none of its positions moved. */
  forMs: number;
}

/**
 * Tells, from a consumer's lag readings over time, whether it has stopped: records arrived
 * after its positions last moved (or after it last had nothing to do), and not one position
 * moved for `stallMs` since. A client that silently stopped fetching (as librdkafka did after a
 * paused broker) looks up and ready by every other sign. Lag that never grows is not a stall:
 * a group's committed offsets stop before the commit marker ending each partition, so an idle
 * group shows a constant lag of a record or two per partition.
 */
export class ConsumerStall {
  private readonly positions = new Map<string, bigint>();
  /** The log ends when the consumer last moved or caught up. */
  private ends = new Map<string, bigint>();
  /** When records were first seen beyond those ends. */
  private waitingSince: number | undefined;

  constructor(private readonly stallMs: number) {}

  /** Takes a lag reading made at `now`; the stall, when the consumer has stalled. */
  observe(rows: readonly PartitionLag[], now: number): Stall | undefined {
    let moved = this.positions.size === 0;
    for (const { topic, partition, position } of rows) {
      const key = `${topic}#${partition}`;
      if (this.positions.get(key) !== position) moved = true;
      this.positions.set(key, position);
    }
    const lag = totalLag(rows);
    if (moved || lag === 0n) {
      this.ends = new Map(rows.map((r) => [`${r.topic}#${r.partition}`, r.end]));
      this.waitingSince = undefined;
      return undefined;
    }
    const arrived = rows.some((r) => r.end > (this.ends.get(`${r.topic}#${r.partition}`) ?? r.end));
    if (!arrived) return undefined;
    this.waitingSince ??= now;
    const forMs = now - this.waitingSince;
    return forMs >= this.stallMs ? { lag, forMs } : undefined;
  }

  /** Forgets the readings (a restarted consumer starts afresh). */
  reset(): void {
    this.positions.clear();
    this.ends.clear();
    this.waitingSince = undefined;
  }
}
