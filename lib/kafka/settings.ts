import type { Logger } from '../logger';

/** What every adapter needs to reach the cluster. */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** Library messages go here (warnings and errors only); none when absent. */
  logger?: Logger;
  /** How long connecting and each request may take before failing. */
  requestTimeoutMs?: number;
}

/**
 * How a client-library error should be handled. `stale-member`: the consumer of offsets sent
 * in a transaction is not a member of its group's current generation (KafkaGroupMembershipError).
 */
export type ErrorKind = 'retriable' | 'fenced' | 'stale-member' | 'fatal';

/** Waits `ms` (for backoff between attempts). */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long a fetch may wait at the broker when there is nothing new. New data answers a fetch
 * at once whatever this is; a long wait only keeps idle consumers quiet (few requests).
 */
export const IDLE_POLL_MS = 1000;
