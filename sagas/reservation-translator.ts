import { context } from '@opentelemetry/api';
import { z } from 'zod';
import type { OrderCommandAction } from '../domain/fulfilment/actions';
import {
  type CommandRefusal,
  recordStockRejected,
  recordStockReserved,
} from '../domain/fulfilment/reservations';
import type { StockReserved } from '../domain/product/messages';
import type { ConsumedRecord } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import type { Decided, Entry, PartitionWork } from '../lib/owned-partitions/partition-work';
import {
  contextWith,
  endSpan,
  startConsumerSpan,
  TRACERS,
  type TraceHeaders,
} from '../lib/telemetry/trace-context';
import { decodeEvent } from '../schemas/codec';
import { Outbox, type RetryPolicy } from './outbox';

/**
 * What the saga reads of a reply record (the command owners' `CommandReply`, JSON): only what
 * tells a refusal and its reason. Other fields are the owners' business and ignored here.
 */
const replySchema = z.object({
  commandId: z.string(),
  commandType: z.string(),
  reusedKey: z.literal(true).optional(),
  outcome: z.object({
    status: z.string(),
    rejection: z.object({ code: z.string(), reason: z.string() }).optional(),
  }),
});

/** The refusal a reply record tells, or null for an accepted command or another request's
 *  answer (the refusal of a reused Idempotency-Key is not the command's outcome). */
export function refusalOf(value: Buffer | null): CommandRefusal | null {
  const reply = replySchema.parse(JSON.parse(String(value)));
  const { rejection } = reply.outcome;
  if (reply.outcome.status !== 'rejected' || !rejection || reply.reusedKey) return null;
  if (rejection.code === 'idempotency_key_reused') return null;
  return { commandId: reply.commandId, commandType: reply.commandType, reason: rejection.reason };
}

export interface ReservationTranslatorOptions {
  logger: Logger;
  retry: RetryPolicy;
  productEventsTopic: string;
}

/**
 * Tells orders what became of the saga's reservations (DESIGN §6): reads one partition of the
 * product events or of the product replies and turns a StockReserved of the saga's ReserveStock
 * into RecordStockReserved, a refusal of it into RecordStockRejected (pure translation:
 * domain/fulfilment/reservations.ts), appended in the runtime's transaction with the consumed
 * offsets. Stateless: nothing to rebuild.
 */
export class ReservationTranslator implements PartitionWork<never> {
  constructor(private readonly options: ReservationTranslatorOptions) {}

  async rebuild(): Promise<void> {}

  async decide(entries: Entry<never>[]): Promise<Decided<never>> {
    const outbox = new Outbox(this.options.retry);
    for (const entry of entries) {
      if (!('record' in entry)) continue;
      const found = this.translate(entry.record);
      if (!found) continue;
      // The order command continues the trace of the reservation (refusals carry none).
      const span = startConsumerSpan(
        TRACERS.sagas,
        `translate ${found.action.command.type}`,
        found.trace,
      );
      context.with(contextWith(span), () => outbox.action(found.action, found.correlationId));
      endSpan(span);
    }
    return { records: outbox.records, committed: () => undefined, failed: () => undefined };
  }

  /** The order command a record calls for; null when none (or when it cannot be read: logged). */
  private translate(
    record: ConsumedRecord,
  ): { action: OrderCommandAction; correlationId: string; trace: TraceHeaders } | null {
    try {
      if (record.topic === this.options.productEventsTopic) {
        // Only reservations matter: the others are not even decoded.
        if (record.headers['event-type']?.toString() !== 'StockReserved') return null;
        const { event, meta } = decodeEvent<StockReserved>(record);
        const action = recordStockReserved(event, meta.commandId);
        return action && { action, correlationId: meta.correlationId, trace: meta };
      }
      const refusal = refusalOf(record.value);
      const action = refusal && recordStockRejected(refusal);
      return refusal && action && { action, correlationId: refusal.commandId, trace: {} };
    } catch (err) {
      // Unreadable: retrying cannot help, and the order's deadline still holds.
      this.options.logger.error(
        { err, topic: record.topic, partition: record.partition, offset: String(record.offset) },
        'unreadable product record skipped',
      );
      return null;
    }
  }

  poison(): Decided<never> {
    return { records: [], committed: () => undefined, failed: () => undefined };
  }

  abandon(): void {}
}
