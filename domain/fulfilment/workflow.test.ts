/** The fulfilment workflow given/when/then, as the deciders are tested: given the order's
 *  events so far, when one more arrives, then the saga asks for exactly these actions. */
import type { Money } from '../money';
import type { OrderEvent } from '../order/events';
import { process } from '../test-kit';
import type { FulfilmentAction } from './actions';
import { fulfilmentWorkflow, type RecordedOrderEvent } from './workflow';

const orderId = 'o-1';
const customerId = 'c-1';
const T0 = Date.UTC(2026, 0, 1, 12);
const DEADLINE = 15 * 60_000;
const eur = (amount: number): Money => ({ amount, currency: 'EUR' });

/** An event recorded `minutes` after T0. */
const at = (event: OrderEvent, minutes = 0): RecordedOrderEvent => ({
  event,
  occurredAt: T0 + minutes * 60_000,
});
const placed = at({
  type: 'OrderPlaced',
  orderId,
  customerId,
  lines: [
    { productId: 'p-1', quantity: 2, unitPrice: eur(500) },
    { productId: 'p-2', quantity: 1, unitPrice: eur(1000) },
  ],
  total: eur(2000),
});
const reserved = (productId: string) =>
  at({ type: 'OrderStockReserved', orderId, customerId, productId }, 1);
const rejected = (productId: string) =>
  at({ type: 'OrderStockRejected', orderId, customerId, productId, reason: 'sold out' }, 1);
const authorized = at(
  { type: 'OrderPaymentAuthorized', orderId, customerId, paymentId: 'pay-7', amount: eur(2000) },
  2,
);
const confirmedByPayment = at(
  { type: 'OrderConfirmed', orderId, customerId, paymentId: 'pay-7', amount: eur(2000) },
  2,
);
const cancelled = (reason: string) =>
  at({ type: 'OrderCancelled', orderId, customerId, reason }, 3);

const reserve = (productId: string, quantity: number): FulfilmentAction => ({
  kind: 'command',
  aggregate: 'product',
  command: { type: 'ReserveStock', productId, orderId, quantity },
  commandId: `saga:o-1:reserve:${productId}`,
});
const release = (productId: string): FulfilmentAction => ({
  kind: 'command',
  aggregate: 'product',
  command: { type: 'ReleaseReservation', productId, orderId },
  commandId: `saga:o-1:release:${productId}`,
});

/** The saga's clock a minute after the order was placed, well within the deadline. */
const saga = () => process(fulfilmentWorkflow, { now: T0 + 60_000, deadlineMs: DEADLINE });

describe('fulfilment workflow: given the order so far, when an event, then actions', () => {
  it('reserves every line of a new order', () => {
    saga()
      .given([])
      .when(placed)
      .then([reserve('p-1', 2), reserve('p-2', 1)]);
  });

  it('cancels instead when the order is first seen past its deadline', () => {
    process(fulfilmentWorkflow, { now: T0 + DEADLINE + 1, deadlineMs: DEADLINE })
      .given([])
      .when(placed)
      .then([
        {
          kind: 'command',
          aggregate: 'order',
          command: {
            type: 'CancelOrder',
            orderId,
            reason: 'deadline passed: not settled within 900 s',
          },
          commandId: 'saga:o-1:deadline',
        },
      ]);
  });

  it('waits for every line, then asks for the payment of the total once', () => {
    saga().given([placed]).when(reserved('p-1')).then([]);
    saga()
      .given([placed, reserved('p-1')])
      .when(reserved('p-2'))
      .then([
        {
          kind: 'authorize-payment',
          orderId,
          customerId,
          amount: eur(2000),
          idempotencyKey: 'pay:o-1',
          attempt: 1,
        },
      ]);
  });

  it('does nothing on a refused line: the order cancels itself; the cancellation releases the rest', () => {
    saga().given([placed]).when(rejected('p-2')).then([]);
    saga()
      .given([placed, reserved('p-1'), rejected('p-2')])
      .when(cancelled('out of stock: sold out'))
      .then([release('p-1')]);
  });

  it('releases the stock and refunds the payment of a confirmed order cancelled later', () => {
    saga()
      .given([placed, reserved('p-1'), reserved('p-2'), confirmedByPayment])
      .when(cancelled('customer changed their mind'))
      .then([
        release('p-1'),
        release('p-2'),
        { kind: 'refund-payment', orderId, paymentId: 'pay-7', idempotencyKey: 'refund:o-1' },
      ]);
  });

  it('voids a payment in doubt (asked for, never answered) when the order is cancelled', () => {
    saga()
      .given([placed, reserved('p-1'), reserved('p-2')])
      .when(cancelled('deadline passed: not settled within 900 s'))
      .then([
        release('p-1'),
        release('p-2'),
        { kind: 'void-payment', orderId, idempotencyKey: 'pay:o-1' },
      ]);
  });

  it('refunds a payment the gateway authorized after the order was cancelled', () => {
    saga()
      .given([placed, rejected('p-1'), cancelled('out of stock: sold out')])
      .when(authorized)
      .then([
        { kind: 'refund-payment', orderId, paymentId: 'pay-7', idempotencyKey: 'refund:o-1' },
      ]);
  });

  it('remembers when the order was placed, for the deadline sweep', () => {
    const order = saga()
      .given([])
      .when(placed)
      .then([reserve('p-1', 2), reserve('p-2', 1)]);
    expect(order.placedAt).toBe(T0);
    expect(fulfilmentWorkflow.evolve(order, reserved('p-1')).placedAt).toBe(T0);
  });
});
