/**
 * A small typed client for the payment gateway (the simulator in this folder, or a real
 * provider behind the same API): global fetch and AbortSignal.timeout; each call's latency goes
 * to the gateway latency histogram (lib/metrics/).
 *
 * Every call ends in an outcome the caller can act on:
 * - `authorized` / `refunded`: done; repeating the call with the same idempotency key
 *   answers the same again without a new charge or refund (once its key is voided, an
 *   authorization is answered `declined`, reason `voided`).
 * - `voided`: the authorization under that key is cancelled, its charge given back if there was
 *   one, and any later authorize with the key is declined; repeating it is harmless.
 * - `declined` (HTTP 402) / `rejected` (refund of an unknown, declined or voided payment): final,
 *   do not retry.
 * - `transient`: a 5xx, 408/429, no answer within `timeoutMs`, or no connection. The
 *   gateway may or may not have acted: retry later with the SAME idempotency key.
 *
 * A request the gateway refuses as malformed (400, 422 idempotency key reused with another body,
 * any other 4xx) or an answer it cannot read throws PaymentGatewayError: a bug, not an outcome,
 * and retrying will not help.
 */

import { gatewayDuration } from '../../lib/metrics/registry';
import { traceHeadersOf } from '../../lib/telemetry/trace-context';

/** An amount in minor units (cents) and its ISO 4217 currency. */
export interface Money {
  amount: number;
  currency: string;
}

export interface AuthorizeRequest {
  /** The same key for every retry of one authorization (e.g. derived from the order id). */
  idempotencyKey: string;
  orderId: string;
  customerId: string;
  amount: Money;
}

export type AuthorizeOutcome =
  | { outcome: 'authorized'; paymentId: string }
  | { outcome: 'declined'; reason: string }
  | { outcome: 'transient'; reason: string };

export type RefundOutcome =
  | { outcome: 'refunded'; refundId: string }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'transient'; reason: string };

export type VoidOutcome =
  | { outcome: 'voided'; voidId: string }
  | { outcome: 'transient'; reason: string };

export interface PaymentGatewayClientOptions {
  /** Longest wait for an answer; past it the call is `transient`. */
  timeoutMs: number;
}

/** The gateway refused the request as malformed, or answered something unreadable. */
export class PaymentGatewayError extends Error {
  override name = 'PaymentGatewayError';
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

type Answer = { status: number; body: unknown } | { transient: string };

const field = (body: unknown, name: string): unknown =>
  typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;

const text = (body: unknown, name: string): string | undefined => {
  const value = field(body, name);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** What the answer says went wrong, for a reason or an error message. */
function explain(answer: { status: number; body: unknown }): string {
  const why =
    text(answer.body, 'detail') ?? text(answer.body, 'reason') ?? text(answer.body, 'title');
  return why ? `HTTP ${answer.status}: ${why}` : `HTTP ${answer.status}`;
}

const isTransientStatus = (status: number) => status >= 500 || status === 408 || status === 429;

export class PaymentGatewayClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, options: PaymentGatewayClientOptions) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizeOutcome> {
    const answer = await this.post('/payments/authorize', request);
    if ('transient' in answer) return { outcome: 'transient', reason: answer.transient };
    if (isTransientStatus(answer.status)) return { outcome: 'transient', reason: explain(answer) };
    if (answer.status === 402) {
      return { outcome: 'declined', reason: text(answer.body, 'reason') ?? 'declined' };
    }
    const paymentId = text(answer.body, 'paymentId');
    if (answer.status === 200 && field(answer.body, 'status') === 'authorized' && paymentId) {
      return { outcome: 'authorized', paymentId };
    }
    throw this.unexpected('authorize', answer);
  }

  async refund(paymentId: string, idempotencyKey: string): Promise<RefundOutcome> {
    const answer = await this.post('/payments/refund', { idempotencyKey, paymentId });
    if ('transient' in answer) return { outcome: 'transient', reason: answer.transient };
    if (isTransientStatus(answer.status)) return { outcome: 'transient', reason: explain(answer) };
    if (answer.status === 404 || answer.status === 409) {
      return { outcome: 'rejected', reason: text(answer.body, 'code') ?? explain(answer) };
    }
    const refundId = text(answer.body, 'refundId');
    if (answer.status === 200 && field(answer.body, 'status') === 'refunded' && refundId) {
      return { outcome: 'refunded', refundId };
    }
    throw this.unexpected('refund', answer);
  }

  /**
   * Voids the authorization made (or still to be made) under `idempotencyKey`: for a payment
   * whose outcome is unknown, e.g. its order was cancelled while the authorize call was in doubt.
   */
  async voidPayment(idempotencyKey: string): Promise<VoidOutcome> {
    const answer = await this.post('/payments/void', { idempotencyKey });
    if ('transient' in answer) return { outcome: 'transient', reason: answer.transient };
    if (isTransientStatus(answer.status)) return { outcome: 'transient', reason: explain(answer) };
    const voidId = text(answer.body, 'voidId');
    if (answer.status === 200 && field(answer.body, 'status') === 'voided' && voidId) {
      return { outcome: 'voided', voidId };
    }
    throw this.unexpected('void', answer);
  }

  private unexpected(call: string, answer: { status: number; body: unknown }) {
    return new PaymentGatewayError(
      `payment gateway ${call} answered ${explain(answer)}`,
      answer.status,
      answer.body,
    );
  }

  private async post(path: string, body: unknown): Promise<Answer> {
    const started = process.hrtime.bigint();
    const answer = await this.call(path, body);
    gatewayDuration.observe(
      { operation: path, outcome: 'transient' in answer ? 'no answer' : String(answer.status) },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    return answer;
  }

  private async call(path: string, body: unknown): Promise<Answer> {
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          // fetch is not instrumented: the call's trace context goes along by hand.
          ...traceHeadersOf(),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const raw = await res.text();
      let parsed: unknown;
      try {
        parsed = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        if (!isTransientStatus(res.status)) {
          throw new PaymentGatewayError(
            `payment gateway ${path} answered HTTP ${res.status} with a body that is not JSON`,
            res.status,
            raw.slice(0, 200),
          );
        }
      }
      return { status: res.status, body: parsed };
    } catch (err) {
      if (err instanceof PaymentGatewayError) throw err;
      return { transient: this.describe(err) };
    }
  }

  private describe(err: unknown): string {
    // Duck-typed: fetch's errors may come from another realm (e.g. under jest), failing instanceof.
    const name = field(err, 'name');
    if (name === 'TimeoutError' || name === 'AbortError') {
      return `no answer within ${this.timeoutMs} ms`;
    }
    const why = text(field(err, 'cause'), 'code') ?? text(err, 'message') ?? String(err);
    return `request to ${this.baseUrl} failed: ${why}`;
  }
}
