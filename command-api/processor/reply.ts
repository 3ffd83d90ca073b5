import { z } from 'zod';

/** Where an appended event sits in the log; a consistency token is a list of these. */
export const positionSchema = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/),
});
export type Position = z.infer<typeof positionSchema>;

const rejectionSchema = z.object({
  kind: z.enum(['not_found', 'conflict', 'invalid']),
  code: z.string(),
  reason: z.string(),
});

export const appendedEventSchema = z.object({
  type: z.string(),
  eventId: z.string(),
  aggregateVersion: z.number().int().positive(),
  data: z.record(z.string(), z.unknown()),
  position: positionSchema,
});
export type AppendedEvent = z.infer<typeof appendedEventSchema>;

/**
 * A command's outcome, written by its partition owner to the replies topic in the same
 * transaction as the events. A repeat of the command gets this same reply again.
 */
export const commandReplySchema = z.object({
  commandId: z.string(),
  commandType: z.string(),
  aggregateId: z.string(),
  /** Who sent the command (`role:subject`); only they (or staff) may read its outcome. */
  actor: z.string(),
  /** Hash of the client's request, so a reused Idempotency-Key with another body is refused. */
  requestHash: z.string(),
  decidedAt: z.string(),
  /**
   * Set on the refusal of a request that reused this command's Idempotency-Key with another
   * body: an answer to that request only, never the command's outcome (absent on old replies).
   */
  reusedKey: z.literal(true).optional(),
  outcome: z.discriminatedUnion('status', [
    z.object({ status: z.literal('accepted'), events: z.array(appendedEventSchema) }),
    z.object({ status: z.literal('rejected'), rejection: rejectionSchema }),
  ]),
});
export type CommandReply = z.infer<typeof commandReplySchema>;

/** The code of the refusal of a reused Idempotency-Key (a request with another body). */
export const IDEMPOTENCY_KEY_REUSED = 'idempotency_key_reused';

/**
 * Whether `reply` is its command's outcome, to remember and to answer repeats with: not the
 * refusal of a reused Idempotency-Key (marked, or from before the mark, known by its code).
 */
export function isCommandOutcome(reply: CommandReply): boolean {
  if (reply.reusedKey) return false;
  return !(
    reply.outcome.status === 'rejected' && reply.outcome.rejection.code === IDEMPOTENCY_KEY_REUSED
  );
}

export function encodeReply(reply: CommandReply): Buffer {
  return Buffer.from(JSON.stringify(reply));
}

export function decodeReply(value: Buffer | null): CommandReply {
  return commandReplySchema.parse(JSON.parse(String(value)));
}
