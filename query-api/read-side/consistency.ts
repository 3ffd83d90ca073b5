import type { LogPosition } from '../../lib/consistency-token';

/** `topic#partition`, the key of a checkpoint or a token position. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}#${partition}`;
}

/** Offsets applied per `topic#partition` (the last offset each store has applied). */
export type Checkpoints = ReadonlyMap<string, bigint>;

/**
 * The positions of a token that a store consuming `topics` must pass: the others are dropped,
 * and the highest offset per partition is kept.
 */
export function relevantPositions(
  positions: readonly LogPosition[],
  topics: readonly string[],
): LogPosition[] {
  const highest = new Map<string, LogPosition>();
  for (const p of positions) {
    if (!topics.includes(p.topic)) continue;
    const key = partitionKey(p.topic, p.partition);
    const seen = highest.get(key);
    if (!seen || BigInt(p.offset) > BigInt(seen.offset)) highest.set(key, p);
  }
  return [...highest.values()];
}

/** Has a store with these checkpoints applied every position? */
export function satisfies(checkpoints: Checkpoints, positions: readonly LogPosition[]): boolean {
  return positions.every((p) => {
    const applied = checkpoints.get(partitionKey(p.topic, p.partition));
    return applied !== undefined && applied >= BigInt(p.offset);
  });
}

/** A decimal offset as a bigint; undefined for anything else. */
export function parseOffset(value: string | null | undefined): bigint | undefined {
  return value !== null && value !== undefined && /^\d{1,20}$/.test(value)
    ? BigInt(value)
    : undefined;
}

/** The store a read uses has not applied the token's positions within the wait. */
export class ConsistencyTimeoutError extends Error {
  override name = 'ConsistencyTimeoutError';

  constructor(
    readonly store: string,
    readonly waitedMs: number,
  ) {
    super(`the ${store} has not applied the consistency token within ${waitedMs} ms`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `attempt` until it returns a value, every `pollMs`, for at most `waitMs` (it is always
 * called at least once); undefined when the time ran out.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined>,
  waitMs: number,
  pollMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(pollMs, left));
  }
}
