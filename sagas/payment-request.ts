import { z } from 'zod';
import type { ConsumedHeaders } from '../lib/kafka';

const money = z.object({ amount: z.number().int().nonnegative(), currency: z.string() });

/** A call to the payment gateway the saga owes, carried through the retry and dead-letter topics. */
export const paymentRequestSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('authorize-payment'),
    orderId: z.string(),
    customerId: z.string(),
    amount: money,
    idempotencyKey: z.string(),
    attempt: z.number().int().positive(),
  }),
  z.object({
    kind: z.literal('refund-payment'),
    orderId: z.string(),
    paymentId: z.string(),
    idempotencyKey: z.string(),
    attempt: z.number().int().positive(),
  }),
  z.object({
    kind: z.literal('void-payment'),
    orderId: z.string(),
    /** The authorization's key, which the void cancels. */
    idempotencyKey: z.string(),
    attempt: z.number().int().positive(),
  }),
]);
export type PaymentRequest = z.infer<typeof paymentRequestSchema>;

export const RETRY_HEADERS = {
  notBefore: 'not-before',
  lastError: 'last-error',
  attempts: 'attempts',
} as const;

export const DLQ_HEADERS = {
  id: 'dlq-id',
  error: 'dlq-error',
  attempts: 'dlq-attempts',
  failedAt: 'dlq-failed-at',
  /** On a resolution record: `redriven` or `discarded`. */
  resolution: 'dlq-resolution',
} as const;

export function encodePaymentRequest(request: PaymentRequest): Buffer {
  return Buffer.from(JSON.stringify(request));
}

export function decodePaymentRequest(value: Buffer | null): PaymentRequest {
  return paymentRequestSchema.parse(JSON.parse(String(value)));
}

export function headerString(headers: ConsumedHeaders, name: string): string | undefined {
  return headers[name]?.toString();
}
