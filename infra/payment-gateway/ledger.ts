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

/**
 * An authorization cancelled by its idempotency key: the charge made under the key is given
 * back, and an authorize with the key is declined (`voided`) from then on, so a late retry can
 * never charge.
 */
export interface VoidRecord {
  type: 'void';
  voidId: string;
  status: 'voided';
  /** The key of the authorization voided (not a key of its own). */
  idempotencyKey: string;
  /** The authorization made under the key; null when none was (the void came first). */
  paymentId: string | null;
  orderId: string | null;
  customerId: string | null;
  /** What the void gave back: null when nothing was charged (no authorization, a declined
   *  one) or the payment was refunded already. */
  amount: Money | null;
  at: string;
}

export type PaymentRecord = AuthorizationRecord | RefundRecord | VoidRecord;

export interface RefundRequest {
  idempotencyKey: string;
  paymentId: string;
}

export type AuthorizeResult =
  | { kind: 'recorded'; record: AuthorizationRecord; replayed: boolean }
  /** Authorized once, voided since: the charge was given back and is not made again. */
  | { kind: 'voided'; record: AuthorizationRecord; voided: VoidRecord }
  | { kind: 'key_reused' };

export type RefundResult =
  | { kind: 'recorded'; record: RefundRecord; replayed: boolean }
  | { kind: 'key_reused' }
  | { kind: 'payment_not_found' }
  | { kind: 'payment_not_authorized'; authorization: AuthorizationRecord }
  | { kind: 'payment_voided'; voided: VoidRecord };

export type VoidResult =
  | { kind: 'recorded'; record: VoidRecord; replayed: boolean }
  /** The key belongs to a refund, not an authorization. */
  | { kind: 'key_reused' };

interface KeyEntry {
  /** The operation and its body: the same key with another one is refused. */
  fingerprint: string;
  record: AuthorizationRecord | RefundRecord;
}

const authorizeFingerprint = (r: AuthorizeRequest) =>
  JSON.stringify(['authorize', r.orderId, r.customerId, r.amount.amount, r.amount.currency]);
const refundFingerprint = (r: RefundRequest) => JSON.stringify(['refund', r.paymentId]);

/**
 * The gateway's memory: every final answer by idempotency key, every authorization, refund and void.
 * In memory only — a restart forgets them. Each method is synchronous, so a key is looked up
 * and recorded with no other request in between.
 */
export class PaymentLedger {
  private readonly keys = new Map<string, KeyEntry>();
  private readonly authorizations = new Map<string, AuthorizationRecord>();
  private readonly refunds = new Map<string, RefundRecord>();
  /** By the authorization's key, and by the payment voided. */
  private readonly voids = new Map<string, VoidRecord>();
  private readonly voidedPayments = new Map<string, VoidRecord>();
  private readonly records: PaymentRecord[] = [];
  private readonly byOrder = new Map<string, PaymentRecord[]>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Authorizes or declines by `behaviour`'s rules; a known key answers its first outcome. */
  authorize(request: AuthorizeRequest, behaviour: Behaviour): AuthorizeResult {
    const fingerprint = authorizeFingerprint(request);
    const known = this.keys.get(request.idempotencyKey);
    if (known) {
      if (known.fingerprint !== fingerprint || known.record.type !== 'authorization') {
        return { kind: 'key_reused' };
      }
      const voided = this.voidedPayments.get(known.record.paymentId);
      return voided && known.record.status === 'authorized'
        ? { kind: 'voided', record: known.record, voided }
        : { kind: 'recorded', record: known.record, replayed: true };
    }
    const reason = this.voids.has(request.idempotencyKey)
      ? 'voided'
      : declineReason(request, behaviour);
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
    const voided = this.voidedPayments.get(request.paymentId);
    if (voided) return { kind: 'payment_voided', voided };
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

  /**
   * Voids the authorization made under `idempotencyKey`, at most once: gives its charge back
   * (unless declined or refunded already) and declines every later authorize with the key. A
   * key nothing was authorized under is voided too, so an authorize still on its way is
   * declined when it arrives.
   */
  void(idempotencyKey: string): VoidResult {
    const earlier = this.voids.get(idempotencyKey);
    if (earlier) return { kind: 'recorded', record: earlier, replayed: true };
    const known = this.keys.get(idempotencyKey)?.record;
    if (known && known.type !== 'authorization') return { kind: 'key_reused' };
    const givesBack =
      known?.status === 'authorized' && !this.refunds.has(known.paymentId) ? known : undefined;
    const record: VoidRecord = {
      type: 'void',
      voidId: `void_${randomUUID()}`,
      status: 'voided',
      idempotencyKey,
      paymentId: known?.paymentId ?? null,
      orderId: known?.orderId ?? null,
      customerId: known?.customerId ?? null,
      amount: givesBack ? { ...givesBack.amount } : null,
      at: this.now().toISOString(),
    };
    this.voids.set(idempotencyKey, record);
    if (known) this.voidedPayments.set(known.paymentId, record);
    this.append(record);
    return { kind: 'recorded', record, replayed: false };
  }

  /** Records in the order they were made: all of an order's, or the latest `limit` of all. */
  list(filter: { orderId?: string; limit?: number }): PaymentRecord[] {
    const records =
      filter.orderId === undefined ? this.records : (this.byOrder.get(filter.orderId) ?? []);
    return filter.limit === undefined ? [...records] : records.slice(-filter.limit);
  }

  private remember(fingerprint: string, record: AuthorizationRecord | RefundRecord): void {
    this.keys.set(record.idempotencyKey, { fingerprint, record });
    this.append(record);
  }

  private append(record: PaymentRecord): void {
    this.records.push(record);
    if (record.orderId === null) return; // a void before any authorization: no order known
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
