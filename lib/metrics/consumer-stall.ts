import type { PartitionLag } from './consumer-lag';

/** A consumer that has records to process and has processed none of them for a while. */
export interface Stall {
  /** Records behind, summed over the partitions. */
  lag: bigint;
  /** Since when none of its positions moved while it had lag. */
  forMs: number;
}

/**
 * Tells, from a consumer's lag readings over time, whether it has stopped: some lag and not
 * one position moved for `stallMs`. A client that silently stopped fetching (as librdkafka did
 * after a paused broker) looks up and ready by every other sign. A consumer that keeps up or
 * keeps moving, however slowly, never stalls.
 */
export class ConsumerStall {
  private readonly positions = new Map<string, bigint>();
  private stuckSince: number | undefined;

  constructor(private readonly stallMs: number) {}

  /** Takes a lag reading made at `now`; the stall, when the consumer has stalled. */
  observe(rows: readonly PartitionLag[], now: number): Stall | undefined {
    let moved = false;
    for (const { topic, partition, position } of rows) {
      const key = `${topic}#${partition}`;
      if (this.positions.get(key) !== position) moved = true;
      this.positions.set(key, position);
    }
    const lag = rows.reduce((sum, r) => sum + r.lag, 0n);
    if (lag === 0n) {
      this.stuckSince = undefined;
      return undefined;
    }
    if (moved || this.stuckSince === undefined) {
      this.stuckSince = now;
      return undefined;
    }
    const forMs = now - this.stuckSince;
    return forMs >= this.stallMs ? { lag, forMs } : undefined;
  }

  /** Forgets the readings (a restarted consumer starts afresh). */
  reset(): void {
    this.positions.clear();
    this.stuckSince = undefined;
  }
}
