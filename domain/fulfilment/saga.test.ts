import type { Money } from '../money';
import type { OrderLine } from '../order/commands';
import { orderDecider } from '../order/decider';
import type { OrderEvent, OrderPlaced } from '../order/events';
import { evolveOrder, initialOrderState, type OrderState } from '../order/state';
import { deepFreeze, fold } from '../test-kit';
import {
  confirmCommandId,
  deadlineCommandId,
  type FulfilmentAction,
  type OrderCommandAction,
  paymentIdempotencyKey,
  paymentOutcomeCommandId,
  recordPaymentOutcome,
  refundIdempotencyKey,
  refundPayment,
  releaseCommandId,
  reserveCommandId,
  stockOutcomeCommandId,
  voidPayment,
} from './actions';
import {
  fulfilmentProgress,
  isPaymentInDoubt,
  isSettled,
  overdueOrders,
  reactToOrderEvent,
  type TrackedOrder,
} from './saga';

const orderId = 'o-1';
const customerId = 'c-1';
const T0 = Date.UTC(2025, 0, 1, 12);
const DEADLINE = 15 * 60_000;

const eur = (amount: number): Money => ({ amount, currency: 'EUR' });
const line = (productId: string, quantity: number, amount: number): OrderLine => ({
  productId,
  quantity,
  unitPrice: eur(amount),
});

// ---- events ----

const lines = [line('p-1', 2, 500), line('p-2', 1, 1000), line('p-3', 3, 100)];
const placed: OrderPlaced = {
  type: 'OrderPlaced',
  orderId,
  customerId,
  lines,
  total: eur(2300),
};
const stockReserved = (productId: string): OrderEvent => ({
  type: 'OrderStockReserved',
  orderId,
  customerId,
  productId,
});
const stockRejected = (productId: string, reason: string): OrderEvent => ({
  type: 'OrderStockRejected',
  orderId,
  customerId,
  productId,
  reason,
});
const authorized: OrderEvent = {
  type: 'OrderPaymentAuthorized',
  orderId,
  customerId,
  paymentId: 'pay-77',
  amount: eur(2300),
};
const paymentFailed: OrderEvent = {
  type: 'OrderPaymentFailed',
  orderId,
  customerId,
  reason: 'card declined',
};
/** Confirmed by its payment (OrderConfirmed v2): how every order is confirmed now. */
const confirmed: OrderEvent = {
  type: 'OrderConfirmed',
  orderId,
  customerId,
  paymentId: 'pay-77',
  amount: eur(2300),
};
/** Confirmed by the saga's ConfirmOrder after OrderPaymentAuthorized (orders from before v2). */
const confirmedLegacy: OrderEvent = {
  type: 'OrderConfirmed',
  orderId,
  customerId,
  paymentId: null,
  amount: null,
};
const shipped: OrderEvent = { type: 'OrderShipped', orderId, customerId, trackingNumber: null };
const delivered: OrderEvent = { type: 'OrderDelivered', orderId, customerId };
const returned: OrderEvent = { type: 'OrderReturned', orderId, customerId, reason: 'broken' };
const cancelled = (reason: string): OrderEvent => ({
  type: 'OrderCancelled',
  orderId,
  customerId,
  reason,
});
const allReserved = [stockReserved('p-1'), stockReserved('p-2'), stockReserved('p-3')];

// ---- expected actions, ids spelled out ----

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
const releaseAll = [release('p-1'), release('p-2'), release('p-3')];
const authorize: FulfilmentAction = {
  kind: 'authorize-payment',
  orderId,
  customerId,
  amount: eur(2300),
  idempotencyKey: 'pay:o-1',
  attempt: 1,
};
const confirm: FulfilmentAction = {
  kind: 'command',
  aggregate: 'order',
  command: { type: 'ConfirmOrder', orderId },
  commandId: 'saga:o-1:confirm',
};
const deadlineCancel: FulfilmentAction = {
  kind: 'command',
  aggregate: 'order',
  command: { type: 'CancelOrder', orderId, reason: 'deadline passed: not settled within 900 s' },
  commandId: 'saga:o-1:deadline',
};
const refund: FulfilmentAction = {
  kind: 'refund-payment',
  orderId,
  paymentId: 'pay-77',
  idempotencyKey: 'refund:o-1',
};
/** Voids the authorization by the key it was asked for under (`authorize.idempotencyKey`). */
const voidIt: FulfilmentAction = {
  kind: 'void-payment',
  orderId,
  idempotencyKey: 'pay:o-1',
};

// ---- given/when/then ----

interface Timing {
  /** When the event was recorded; defaults to T0. */
  occurredAt?: number;
  /** The saga's clock; defaults to a minute after T0. */
  now?: number;
}

/** `given(history).when(event, timing).then(actions)`: the saga's reaction to `event` after the
 *  order's `history`, states built by the order decider's evolve (frozen, so nothing mutates). */
function given(history: readonly OrderEvent[]) {
  return {
    when(event: OrderEvent, { occurredAt = T0, now = T0 + 60_000 }: Timing = {}) {
      const before = fold(orderDecider, history);
      const after = deepFreeze(evolveOrder(before, event));
      const input = deepFreeze({ before, after, event, occurredAt, now, deadlineMs: DEADLINE });
      const actions = reactToOrderEvent(input);
      return {
        actions,
        // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited
        then(expected: readonly FulfilmentAction[]): FulfilmentAction[] {
          expect(actions).toStrictEqual(expected);
          // Plain data (no undefined, no shared references to the frozen state).
          expect(JSON.parse(JSON.stringify(actions))).toStrictEqual(actions);
          return actions;
        },
      };
    },
  };
}

describe('order fulfilment saga: happy path', () => {
  it('reserves every line, authorizes the total once all are reserved; the payment confirms the order itself', () => {
    given([])
      .when(placed)
      .then([reserve('p-1', 2), reserve('p-2', 1), reserve('p-3', 3)]);
    given([placed]).when(stockReserved('p-2')).then([]);
    given([placed, stockReserved('p-2')])
      .when(stockReserved('p-1'))
      .then([]);
    given([placed, stockReserved('p-2'), stockReserved('p-1')])
      .when(stockReserved('p-3'))
      .then([authorize]);
    // RecordPaymentAuthorized on the fully reserved order gives OrderConfirmed with the payment.
    given([placed, ...allReserved])
      .when(confirmed)
      .then([]);
  });

  it('an order whose payment was recorded before payments confirmed orders: confirms it', () => {
    given([placed, ...allReserved])
      .when(authorized)
      .then([confirm]);
    given([placed, ...allReserved, authorized])
      .when(confirmedLegacy)
      .then([]);
  });

  it('no ConfirmOrder for an authorization on an order with a line not reserved', () => {
    given([placed, stockReserved('p-1')])
      .when(authorized)
      .then([]);
  });

  it('does nothing on shipment, delivery or return (returns are not refunded by the saga)', () => {
    const history = [placed, ...allReserved, confirmed];
    given(history).when(shipped).then([]);
    given([...history, shipped])
      .when(delivered)
      .then([]);
    given([...history, shipped, delivered])
      .when(returned)
      .then([]);
  });

  it('does not authorize again once the payment has an answer, or after a rejected line', () => {
    const twoReserved = [placed, stockReserved('p-1'), stockReserved('p-2')];
    given([...twoReserved, authorized])
      .when(stockReserved('p-3'))
      .then([]);
    given([...twoReserved, paymentFailed])
      .when(stockReserved('p-3'))
      .then([]);
    given([...twoReserved, stockRejected('p-3', 'only 0 units available, 3 requested')])
      .when(stockReserved('p-3'))
      .then([]);
  });

  it('does not authorize for a reservation recorded after the order was cancelled', () => {
    given([placed, stockReserved('p-1'), stockReserved('p-2'), cancelled('changed my mind')])
      .when(stockReserved('p-3'))
      .then([]);
  });

  it('authorizes a one-line order on its only reservation', () => {
    const single: OrderPlaced = { ...placed, lines: [line('p-9', 4, 250)], total: eur(1000) };
    given([single])
      .when(stockReserved('p-9'))
      .then([{ ...authorize, amount: eur(1000) }]);
  });
});

describe('order fulfilment saga: a refused line or a failed payment', () => {
  const outOfStock = stockRejected('p-2', 'only 0 units available, 1 requested');

  it('does nothing on OrderStockRejected: the order cancels itself in the same decision', () => {
    given([placed, stockReserved('p-1')])
      .when(outOfStock)
      .then([]);
    given([placed, outOfStock]).when(stockRejected('p-3', 'product p-3 is discontinued')).then([]);
  });

  it('does nothing on OrderPaymentFailed: the order cancels itself in the same decision', () => {
    given([placed, ...allReserved])
      .when(paymentFailed)
      .then([]);
  });

  it('the order decider gives the cancellation the saga compensates', () => {
    const refused = orderDecider.decide(
      { type: 'RecordStockRejected', orderId, productId: 'p-2', reason: 'only 0 units' },
      fold(orderDecider, [placed, stockReserved('p-1')]),
    );
    expect(refused.ok && refused.events.map((e) => e.type)).toStrictEqual([
      'OrderStockRejected',
      'OrderCancelled',
    ]);
  });
});

describe('order fulfilment saga: compensation on OrderCancelled', () => {
  it('a customer cancelling after a reservation: releases every line (reserved or in flight), no refund', () => {
    given([placed, stockReserved('p-1')])
      .when(cancelled('changed my mind'))
      .then(releaseAll);
  });

  it('cancelled for a refused line: releases every line but the refused one', () => {
    given([placed, stockReserved('p-1'), stockRejected('p-2', 'only 0 units available')])
      .when(cancelled('out of stock: only 0 units available'))
      .then([release('p-1'), release('p-3')]);
  });

  it('cancelled after confirmation: releases every line and refunds the payment the confirmation carried', () => {
    given([placed, ...allReserved, confirmed])
      .when(cancelled('changed my mind'))
      .then([...releaseAll, refund]);
    // Confirmed the old way: the payment is OrderPaymentAuthorized's.
    given([placed, ...allReserved, authorized, confirmedLegacy])
      .when(cancelled('changed my mind'))
      .then([...releaseAll, refund]);
  });

  it('cancelled after the payment failed: releases, nothing to refund', () => {
    given([placed, ...allReserved, paymentFailed])
      .when(cancelled('payment failed: card declined'))
      .then(releaseAll);
  });

  it('cancelled while the payment is in doubt (authorization asked, no answer recorded): releases every line and voids it by its key', () => {
    // By the customer while the gateway's answer is lost or still being retried.
    given([placed, ...allReserved])
      .when(cancelled('changed my mind'))
      .then([...releaseAll, voidIt]);
    // By the deadline sweep: the same compensation.
    given([placed, ...allReserved])
      .when(cancelled('deadline passed: not settled within 900 s'))
      .then([...releaseAll, voidIt]);
  });

  it('no void when the authorization was never asked for: a line unreserved or rejected', () => {
    given([placed, stockReserved('p-1'), stockReserved('p-2')])
      .when(cancelled('changed my mind'))
      .then(releaseAll);
    given([placed, stockRejected('p-3', 'only 0 units available, 3 requested'), ...allReserved])
      .when(cancelled('out of stock: only 0 units available, 3 requested'))
      .then([release('p-1'), release('p-2')]);
  });

  it('an authorization recorded after the cancellation (answered before the void took effect) is refunded', () => {
    given([placed, ...allReserved, cancelled('changed my mind')])
      .when(authorized)
      .then([refund]);
  });

  it('voids exactly when the authorize was asked for and has no recorded answer', () => {
    const stateOf = (events: readonly OrderEvent[]) => fold(orderDecider, events);
    expect(isPaymentInDoubt(stateOf([placed, ...allReserved]))).toBe(true);
    expect(isPaymentInDoubt(stateOf([]))).toBe(false);
    expect(isPaymentInDoubt(stateOf([placed, stockReserved('p-1')]))).toBe(false);
    expect(isPaymentInDoubt(stateOf([placed, ...allReserved, authorized]))).toBe(false);
    expect(isPaymentInDoubt(stateOf([placed, ...allReserved, confirmed]))).toBe(false);
    expect(isPaymentInDoubt(stateOf([placed, ...allReserved, paymentFailed]))).toBe(false);
    expect(isPaymentInDoubt(stateOf([placed, ...allReserved, cancelled('changed my mind')]))).toBe(
      false,
    );
  });
});

describe('order fulfilment saga: deadline', () => {
  const late = { occurredAt: T0, now: T0 + DEADLINE + 1 };

  it('cancels an OrderPlaced first seen past its deadline instead of reserving', () => {
    given([]).when(placed, late).then([deadlineCancel]);
  });

  it('still reserves exactly at the deadline (strictly later cancels)', () => {
    given([])
      .when(placed, { occurredAt: T0, now: T0 + DEADLINE })
      .then([reserve('p-1', 2), reserve('p-2', 1), reserve('p-3', 3)]);
  });

  it('says the deadline in seconds', () => {
    const [action] = reactToOrderEvent({
      before: initialOrderState,
      after: evolveOrder(initialOrderState, placed),
      event: placed,
      occurredAt: T0,
      now: T0 + 3_000,
      deadlineMs: 1_500,
    });
    expect(action).toMatchObject({
      command: { reason: 'deadline passed: not settled within 1.5 s' },
    });
  });

  it('overdueOrders picks only pending orders past their deadline, in the order given', () => {
    const stateOf = (id: string, events: readonly OrderEvent[]): OrderState =>
      fold(
        orderDecider,
        events.map((event) => ({ ...event, orderId: id })),
      );
    const tracked = new Map<string, TrackedOrder>([
      ['o-old', { state: stateOf('o-old', [placed]), placedAt: T0 - DEADLINE - 1 }],
      ['o-fresh', { state: stateOf('o-fresh', [placed]), placedAt: T0 - DEADLINE }],
      [
        'o-paying',
        { state: stateOf('o-paying', [placed, ...allReserved]), placedAt: T0 - 2 * DEADLINE },
      ],
      [
        'o-confirmed',
        {
          state: stateOf('o-confirmed', [placed, ...allReserved, confirmed]),
          placedAt: T0 - 2 * DEADLINE,
        },
      ],
      [
        'o-cancelled',
        { state: stateOf('o-cancelled', [placed, cancelled('x')]), placedAt: T0 - 2 * DEADLINE },
      ],
      ['o-absent', { state: initialOrderState, placedAt: T0 - 2 * DEADLINE }],
    ]);
    const deadline = (id: string): OrderCommandAction => ({
      kind: 'command',
      aggregate: 'order',
      command: {
        type: 'CancelOrder',
        orderId: id,
        reason: 'deadline passed: not settled within 900 s',
      },
      commandId: `saga:${id}:deadline`,
    });
    expect(overdueOrders(tracked, T0, DEADLINE)).toStrictEqual([
      deadline('o-old'),
      deadline('o-paying'),
    ]);
    expect(overdueOrders(tracked, T0 - DEADLINE, DEADLINE)).toStrictEqual([]);
    expect(overdueOrders([], T0, DEADLINE)).toStrictEqual([]);
  });
});

describe('order fulfilment saga: determinism', () => {
  const flow: OrderEvent[] = [placed, ...allReserved, confirmed];
  const cancelledFlow: OrderEvent[] = [
    placed,
    ...allReserved,
    confirmed,
    cancelled('changed my mind'),
    authorized,
  ];

  it('reacting again to the same event gives identical actions and ids', () => {
    for (const events of [flow, cancelledFlow]) {
      events.forEach((event, i) => {
        const history = events.slice(0, i);
        const first = given(history).when(event).actions;
        const again = given(history).when(event).actions;
        expect(again).toStrictEqual(first);
      });
    }
  });

  it('builds every id from the order, the step and the product only', () => {
    expect([
      reserveCommandId('o-1', 'p-1'),
      releaseCommandId('o-1', 'p-1'),
      stockOutcomeCommandId('o-1', 'p-1'),
      confirmCommandId('o-1'),
      deadlineCommandId('o-1'),
      paymentOutcomeCommandId('o-1'),
      paymentIdempotencyKey('o-1'),
      refundIdempotencyKey('o-1'),
    ]).toStrictEqual([
      'saga:o-1:reserve:p-1',
      'saga:o-1:release:p-1',
      'saga:o-1:stock:p-1',
      'saga:o-1:confirm',
      'saga:o-1:deadline',
      'saga:o-1:payment',
      'pay:o-1',
      'refund:o-1',
    ]);
  });

  it('escapes separators, so different orders and products never share an id', () => {
    expect(reserveCommandId('a:reserve:b', 'c')).toBe('saga:a%3Areserve%3Ab:reserve:c');
    expect(reserveCommandId('a', 'b:reserve:c')).toBe('saga:a:reserve:b%3Areserve%3Ac');
    expect(reserveCommandId('a%3A', 'b')).toBe('saga:a%253A:reserve:b');
    expect(confirmCommandId('o:1')).not.toBe(confirmCommandId('o%3A1'));
  });

  it('builds the payment outcome commands and refunds with fixed ids', () => {
    expect(
      recordPaymentOutcome('o-1', { authorized: true, paymentId: 'pay-77', amount: eur(2300) }),
    ).toStrictEqual({
      kind: 'command',
      aggregate: 'order',
      command: {
        type: 'RecordPaymentAuthorized',
        orderId: 'o-1',
        paymentId: 'pay-77',
        amount: eur(2300),
      },
      commandId: 'saga:o-1:payment',
    });
    expect(recordPaymentOutcome('o-1', { authorized: false, reason: 'declined' })).toStrictEqual({
      kind: 'command',
      aggregate: 'order',
      command: { type: 'RecordPaymentFailed', orderId: 'o-1', reason: 'declined' },
      commandId: 'saga:o-1:payment',
    });
    expect(refundPayment('o-1', 'pay-77')).toStrictEqual(refund);
    expect(voidPayment('o-1')).toStrictEqual(voidIt);
  });
});

describe('fulfilmentProgress', () => {
  it.each<[string, readonly OrderEvent[], ReturnType<typeof fulfilmentProgress>, boolean]>([
    ['absent', [], null, false],
    ['placed', [placed], 'pending_stock', false],
    ['partly reserved', [placed, stockReserved('p-1')], 'pending_stock', false],
    ['a line rejected', [placed, stockRejected('p-1', 'none left')], 'pending_stock', false],
    ['all reserved', [placed, ...allReserved], 'pending_payment', false],
    [
      'all reserved, payment failed',
      [placed, ...allReserved, paymentFailed],
      'pending_payment',
      false,
    ],
    ['confirmed', [placed, ...allReserved, confirmed], 'confirmed', true],
    ['cancelled', [placed, cancelled('changed my mind')], 'cancelled', true],
    ['shipped', [placed, ...allReserved, confirmed, shipped], 'shipped', true],
    ['delivered', [placed, ...allReserved, confirmed, shipped, delivered], 'delivered', true],
    [
      'returned',
      [placed, ...allReserved, confirmed, shipped, delivered, returned],
      'returned',
      true,
    ],
  ])('%s → %s', (_label, events, progress, settled) => {
    const state = fold(orderDecider, events);
    expect(fulfilmentProgress(state)).toBe(progress);
    expect(isSettled(state)).toBe(settled);
  });
});
