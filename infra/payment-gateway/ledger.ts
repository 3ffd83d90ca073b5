import { randomUUID } from 'node:crypto';
import type { Behaviour } from './behaviour';
import type { AuthorizeRequest, Money } from './client';

export interface AuthorizationRecord {
  type: 'authorization';
  paymentId: string;
  status: 'authorized' | 'declined';
  /** Why it was declined. */
  reason?: string;
  orderId: string;
  customerId: string;
  amount: Money;
  idempotencyKey: string;
  at: string;
}

export interface RefundRecord {
  type: 'refund';
  refundId: string;
  paymentId: string;
  status: 'refunded';
  orderId: string;
  customerId: string;
  amount: Money;
  idempotencyKey: string;
  at: string;
}

export type PaymentRecord = AuthorizationRecord | RefundRecord;

export interface RefundRequest {
  idempotencyKey: string;
  paymentId: string;
}

export type AuthorizeResult =
  | { kind: 'recorded'; record: AuthorizationRecord; replayed: boolean }
  | { kind: 'key_reused' };

export type RefundResult =
  | { kind: 'recorded'; record: RefundRecord; replayed: boolean }
  | { kind: 'key_reused' }
  | { kind: 'payment_not_found' }
  | { kind: 'payment_not_authorized'; authorization: AuthorizationRecord };

interface KeyEntry {
  /** The operation and its body: the same key with another one is refused. */
  fingerprint: string;
  record: PaymentRecord;
}

const authorizeFingerprint = (r: AuthorizeRequest) =>
  JSON.stringify(['authorize', r.orderId, r.customerId, r.amount.amount, r.amount.currency]);
const refundFingerprint = (r: RefundRequest) => JSON.stringify(['refund', r.paymentId]);

/**
 * The gateway's memory: every final answer by idempotency key, every authorization and refund.
 * In memory only — a restart forgets them. Each method is synchronous, so a key is looked up
 * and recorded with no other request in between.
 */
export class PaymentLedger {
  private readonly keys = new Map<string, KeyEntry>();
  private readonly authorizations = new Map<string, AuthorizationRecord>();
  private readonly refunds = new Map<string, RefundRecord>();
  private readonly records: PaymentRecord[] = [];
  private readonly byOrder = new Map<string, PaymentRecord[]>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Authorizes or declines by `behaviour`'s rules; a known key answers its first outcome. */
  authorize(request: AuthorizeRequest, behaviour: Behaviour): AuthorizeResult {
    const fingerprint = authorizeFingerprint(request);
    const known = this.keys.get(request.idempotencyKey);
    if (known) {
      return known.fingerprint === fingerprint && known.record.type === 'authorization'
        ? { kind: 'recorded', record: known.record, replayed: true }
        : { kind: 'key_reused' };
    }
    const reason = declineReason(request, behaviour);
    const record: AuthorizationRecord = {
      type: 'authorization',
      paymentId: `pay_${randomUUID()}`,
      status: reason ? 'declined' : 'authorized',
      ...(reason ? { reason } : {}),
      orderId: request.orderId,
      customerId: request.customerId,
      amount: { amount: request.amount.amount, currency: request.amount.currency },
      idempotencyKey: request.idempotencyKey,
      at: this.now().toISOString(),
    };
    this.authorizations.set(record.paymentId, record);
    this.remember(fingerprint, record);
    return { kind: 'recorded', record, replayed: false };
  }

  /** Refunds an authorized payment in full, at most once: a later key gets the same refund. */
  refund(request: RefundRequest): RefundResult {
    const fingerprint = refundFingerprint(request);
    const known = this.keys.get(request.idempotencyKey);
    if (known) {
      return known.fingerprint === fingerprint && known.record.type === 'refund'
        ? { kind: 'recorded', record: known.record, replayed: true }
        : { kind: 'key_reused' };
    }
    const authorization = this.authorizations.get(request.paymentId);
    if (!authorization) return { kind: 'payment_not_found' };
    if (authorization.status !== 'authorized') {
      return { kind: 'payment_not_authorized', authorization };
    }
    const earlier = this.refunds.get(request.paymentId);
    if (earlier) {
      this.keys.set(request.idempotencyKey, { fingerprint, record: earlier });
      return { kind: 'recorded', record: earlier, replayed: true };
    }
    const record: RefundRecord = {
      type: 'refund',
      refundId: `ref_${randomUUID()}`,
      paymentId: authorization.paymentId,
      status: 'refunded',
      orderId: authorization.orderId,
      customerId: authorization.customerId,
      amount: { ...authorization.amount },
      idempotencyKey: request.idempotencyKey,
      at: this.now().toISOString(),
    };
    this.refunds.set(record.paymentId, record);
    this.remember(fingerprint, record);
    return { kind: 'recorded', record, replayed: false };
  }

  /** Records in the order they were made: all of an order's, or the latest `limit` of all. */
  list(filter: { orderId?: string; limit?: number }): PaymentRecord[] {
    const records =
      filter.orderId === undefined ? this.records : (this.byOrder.get(filter.orderId) ?? []);
    return filter.limit === undefined ? [...records] : records.slice(-filter.limit);
  }

  private remember(fingerprint: string, record: PaymentRecord): void {
    this.keys.set(record.idempotencyKey, { fingerprint, record });
    this.records.push(record);
    const forOrder = this.byOrder.get(record.orderId);
    if (forOrder) forOrder.push(record);
    else this.byOrder.set(record.orderId, [record]);
  }
}

function declineReason(request: AuthorizeRequest, behaviour: Behaviour): string | undefined {
  if (behaviour.declineCustomers.includes(request.customerId)) return 'card_declined';
  if (behaviour.declineOverAmount !== null && request.amount.amount > behaviour.declineOverAmount) {
    return 'insufficient_funds';
  }
  return undefined;
}
