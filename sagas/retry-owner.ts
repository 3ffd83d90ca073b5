import type { ConsumedRecord } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import type { Decided, Entry, PartitionWork } from '../lib/owned-partitions/partition-work';
import { contextOf } from '../lib/telemetry/trace-context';
import { Outbox, type RetryPolicy } from './outbox';
import {
  decodePaymentRequest,
  headerString,
  type PaymentRequest,
  RETRY_HEADERS,
} from './payment-request';
import { type OwedPayment, type PaymentDeps, settleAll } from './payment-step';

export interface RetryOwnerOptions {
  logger: Logger;
  retry: RetryPolicy;
  payments: PaymentDeps;
}

/** Retry topics carry consumed records only (no local requests). */
function recordOf(entry: Entry<never>): ConsumedRecord {
  if ('record' in entry) return entry.record;
  throw new Error('a retry owner takes no local requests');
}

const notBefore = (entry: Entry<never>): number =>
  Number(headerString(recordOf(entry).headers, RETRY_HEADERS.notBefore) ?? 0);

/**
 * Drains one partition of a retry topic (DESIGN §6): a payment call waits until its
 * `not-before` time, and while the circuit breaker is open. Each batch settles its due prefix —
 * the orders' calls concurrently — and leaves the rest to the runtime as `later`, to come back
 * to when the first of them is due: nothing sleeps inside a batch, no other partition waits.
 * Each outcome (order commands, a later retry, a dead letter) is appended with the consumed
 * offsets in one transaction.
 */
export class RetryOwner implements PartitionWork<never> {
  constructor(private readonly options: RetryOwnerOptions) {}

  async rebuild(): Promise<void> {}

  async decide(entries: Entry<never>[]): Promise<Decided<never>> {
    const now = Date.now();
    const { breaker } = this.options.payments;
    const blockedMs = breaker.blockedForMs();
    if (blockedMs > 0) return this.waiting([], entries, now + blockedMs);
    // Calls in a delay topic are in due order: the due ones are a prefix. While the breaker is
    // half-open only its one trial call goes out; the rest follow once it has answered.
    const dueCount = entries.findIndex((e) => notBefore(e) > now);
    const cut = Math.min(
      dueCount < 0 ? entries.length : dueCount,
      breaker.state === 'half-open' ? 1 : entries.length,
    );
    const due = entries.slice(0, cut);
    const later = entries.slice(cut);
    const outbox = new Outbox(this.options.retry);
    const owed: OwedPayment[] = [];
    for (const entry of due) {
      const record = recordOf(entry);
      const request = this.read(record);
      if (!request) continue;
      this.options.logger.debug(
        { orderId: request.orderId, attempt: request.attempt, topic: record.topic },
        'retrying payment call',
      );
      // The failed call's trace (in the retry record's headers) goes on with this attempt.
      const trace = contextOf({
        traceparent: headerString(record.headers, 'traceparent'),
        tracestate: headerString(record.headers, 'tracestate'),
      });
      owed.push({ request, correlationId: request.orderId, trace });
    }
    await settleAll(owed, this.options.payments, outbox);
    const [next] = later;
    return this.waiting(outbox.records, later, next ? Math.max(now, notBefore(next)) : now);
  }

  private waiting(
    records: Outbox['records'],
    later: Entry<never>[],
    laterAt: number,
  ): Decided<never> {
    return {
      records,
      ...(later.length > 0 && { later, laterAt }),
      committed: () => undefined,
      failed: () => undefined,
    };
  }

  /** The payment call a record carries; null for an unreadable one (logged, passed over). */
  private read(record: ConsumedRecord): PaymentRequest | null {
    try {
      return decodePaymentRequest(record.value);
    } catch (err) {
      this.options.logger.error(
        { err, topic: record.topic, partition: record.partition, offset: String(record.offset) },
        'unreadable payment retry skipped',
      );
      return null;
    }
  }

  /** A call that keeps failing even alone (a fault, not the gateway): a dead letter. */
  poison(entry: Entry<never>, error: Error): Decided<never> {
    const outbox = new Outbox(this.options.retry);
    const request = this.read(recordOf(entry));
    if (request) outbox.deadLetter(request, `could not be retried: ${error.message}`);
    return { records: outbox.records, committed: () => undefined, failed: () => undefined };
  }

  abandon(): void {}
}
