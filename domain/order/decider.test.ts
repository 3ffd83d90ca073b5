import { MAX_MINOR_UNITS } from '../money';
import { fold, scenario } from '../test-kit';
import {
  ORDER_COMMAND_TYPES,
  type OrderCommand,
  type OrderCommandType,
  type OrderLine,
  type PlaceOrder,
} from './commands';
import { aggregateId, MAX_ORDER_LINES, orderDecider } from './decider';
import {
  ORDER_EVENT_TYPES,
  type OrderEvent,
  type OrderEventType,
  type OrderPlaced,
} from './events';
import { ORDER_STATUSES, type OrderState, type OrderStatus } from './state';

const { given } = scenario(orderDecider);

const orderId = 'o-1';
const customerId = 'c-1';
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const line = (productId: string, quantity: number, amount: number): OrderLine => ({
  productId,
  quantity,
  unitPrice: eur(amount),
});

const place: PlaceOrder = {
  type: 'PlaceOrder',
  orderId,
  customerId,
  lines: [line('p-1', 2, 500), line('p-2', 1, 1000)],
};
const placed: OrderPlaced = { ...place, type: 'OrderPlaced', total: eur(2000) };
const stockReserved = (productId: string): OrderEvent => ({
  type: 'OrderStockReserved',
  orderId,
  customerId,
  productId,
});
const authorized: OrderEvent = {
  type: 'OrderPaymentAuthorized',
  orderId,
  customerId,
  paymentId: 'pay-1',
  amount: eur(2000),
};
const confirmed: OrderEvent = {
  type: 'OrderConfirmed',
  orderId,
  customerId,
  paymentId: null,
  amount: null,
};
const shipped: OrderEvent = { type: 'OrderShipped', orderId, customerId, trackingNumber: 'TRK-1' };
const delivered: OrderEvent = { type: 'OrderDelivered', orderId, customerId };
const cancelled: OrderEvent = {
  type: 'OrderCancelled',
  orderId,
  customerId,
  reason: 'changed my mind',
};
const returned: OrderEvent = { type: 'OrderReturned', orderId, customerId, reason: 'broken' };

/** Everything ConfirmOrder needs: both lines reserved and the payment authorized. */
const ready: OrderEvent[] = [placed, stockReserved('p-1'), stockReserved('p-2'), authorized];

/** One valid command of each type, for checks that apply to all of them. */
const sample: { [K in OrderCommandType]: Extract<OrderCommand, { type: K }> } = {
  PlaceOrder: place,
  RecordStockReserved: { type: 'RecordStockReserved', orderId, productId: 'p-2' },
  RecordStockRejected: {
    type: 'RecordStockRejected',
    orderId,
    productId: 'p-2',
    reason: 'only 0 units available, 1 requested',
  },
  RecordPaymentAuthorized: {
    type: 'RecordPaymentAuthorized',
    orderId,
    paymentId: 'pay-1',
    amount: eur(2000),
  },
  RecordPaymentFailed: { type: 'RecordPaymentFailed', orderId, reason: 'card declined' },
  ConfirmOrder: { type: 'ConfirmOrder', orderId },
  ShipOrder: { type: 'ShipOrder', orderId, trackingNumber: 'TRK-1' },
  DeliverOrder: { type: 'DeliverOrder', orderId },
  CancelOrder: { type: 'CancelOrder', orderId, reason: 'changed my mind' },
  ReturnOrder: { type: 'ReturnOrder', orderId, reason: 'broken' },
};

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const statusOf = (state: OrderState): OrderStatus | 'absent' =>
  state.exists ? state.status : 'absent';

describe('order catalogue', () => {
  it('lists exactly the command and event types of the unions', () => {
    const commandsMatch: Equal<OrderCommandType, OrderCommand['type']> = true;
    const eventsMatch: Equal<OrderEventType, OrderEvent['type']> = true;
    expect([commandsMatch, eventsMatch]).toEqual([true, true]);
    expect(Object.keys(sample)).toEqual([...ORDER_COMMAND_TYPES]);
    expect(new Set(ORDER_EVENT_TYPES).size).toBe(10);
  });

  it('names the aggregate of every command and event', () => {
    for (const command of Object.values(sample)) expect(aggregateId(command)).toBe(orderId);
    expect(aggregateId(placed)).toBe(orderId);
  });
});

describe('PlaceOrder', () => {
  it('places an order with the total of quantity × unit price', () => {
    const state = given([]).when(place).then([placed]);
    expect(state).toMatchObject({ status: 'pending', total: eur(2000), stockReserved: [] });
  });

  it('accepts the largest order', () => {
    const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => line(`p-${i}`, 1, 3));
    given([])
      .when({ ...place, lines })
      .then([{ ...placed, lines, total: eur(3 * MAX_ORDER_LINES) }]);
  });

  it('accepts free items (amount 0)', () => {
    given([])
      .when({ ...place, lines: [line('p-1', 3, 0)] })
      .then([{ ...placed, lines: [line('p-1', 3, 0)], total: eur(0) }]);
  });

  it('rejects an order that already exists', () => {
    given([placed]).when(place).thenReject('order_exists', 'conflict');
  });

  const tooMany = Array.from({ length: MAX_ORDER_LINES + 1 }, (_, i) => line(`p-${i}`, 1, 3));
  it.each([
    ['no lines', { lines: [] }, 'an order needs 1 to 100 lines, got 0'],
    ['101 lines', { lines: tooMany }, 'got 101'],
    ['lines that are not an array', { lines: 'p-1' }, 'an order needs 1 to 100 lines'],
    ['a null line', { lines: [null] }, 'line 1 must be an object'],
    ['quantity 0', { lines: [line('p-1', 0, 5)] }, 'line 1: quantity'],
    ['a fractional quantity', { lines: [line('p-1', 1.5, 5)] }, 'got 1.5'],
    ['an empty productId', { lines: [line('', 1, 5)] }, 'line 1: productId must not be empty'],
    ['a negative price', { lines: [line('p-1', 1, -5)] }, 'line 1: unitPrice amount'],
    [
      'a bad currency',
      { lines: [{ productId: 'p-1', quantity: 1, unitPrice: { amount: 1, currency: 'euro' } }] },
      'line 1: unitPrice currency',
    ],
    [
      'a product twice',
      { lines: [line('p-1', 1, 5), line('p-1', 2, 5)] },
      'line 2: product p-1 appears more than once',
    ],
    [
      'two currencies',
      {
        lines: [
          line('p-1', 1, 5),
          { ...line('p-2', 1, 5), unitPrice: { amount: 5, currency: 'USD' } },
        ],
      },
      "line 2: currency USD differs from the order's EUR",
    ],
    ['an empty customerId', { customerId: '' }, 'customerId must not be empty'],
    ['an empty orderId', { orderId: '' }, 'orderId must not be empty'],
  ])('rejects %s as invalid_order', (_label, patch, reason) => {
    const command = { ...place, ...patch } as unknown as OrderCommand;
    const rejection = given([]).when(command).thenReject('invalid_order', 'invalid');
    expect(rejection.reason).toContain(reason);
  });
});

describe('PlaceOrder: money stays within MAX_MINOR_UNITS', () => {
  it('accepts an order totalling exactly the largest amount', () => {
    const lines = [line('p-1', 1, MAX_MINOR_UNITS - 1), line('p-2', 1, 1)];
    given([])
      .when({ ...place, lines })
      .then([{ ...placed, lines, total: eur(MAX_MINOR_UNITS) }]);
  });

  it('accepts 100 lines of the largest quantity whose total is within the bound, exactly', () => {
    const quantity = 2_147_483_647;
    const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => line(`p-${i}`, quantity, 46));
    given([])
      .when({ ...place, lines })
      .then([{ ...placed, lines, total: eur(100 * quantity * 46) }]);
  });

  it.each([
    [
      // The order: 9007199254740990 + 1 = 2^53 - 1 used to stall its partition.
      'a unit price of 9007199254740990',
      [line('p-dear', 1, 9_007_199_254_740_990), line('p-cent', 1, 1)],
      'line 1 (product p-dear): the unit price of 9007199254740990 minor units',
    ],
    ['a unit price above 2^53', [line('p-1', 1, 2 ** 60)], 'line 1 (product p-1): the unit price'],
    [
      'a line total above the bound',
      [line('p-1', 1, 5), line('p-2', 3, MAX_MINOR_UNITS / 2)],
      'line 2 (product p-2): 3 × 5000000000000, a total of 15000000000000 minor units',
    ],
    [
      'a line total far beyond exact arithmetic',
      [line('p-1', 2_147_483_647, MAX_MINOR_UNITS)],
      'line 1 (product p-1)',
    ],
    [
      'an order total above the bound',
      [line('p-1', 1, MAX_MINOR_UNITS), line('p-2', 1, 1)],
      `the order total of ${MAX_MINOR_UNITS + 1} minor units is above the largest amount, ${MAX_MINOR_UNITS}`,
    ],
  ])('rejects %s as amount_too_large', (_label, lines, reason) => {
    const rejection = given([])
      .when({ ...place, lines })
      .thenReject('amount_too_large', 'invalid');
    expect(rejection.reason).toContain(reason);
  });

  it('checks the amounts before whether the order exists', () => {
    given([placed])
      .when({ ...place, lines: [line('p-1', 1, MAX_MINOR_UNITS + 1)] })
      .thenReject('amount_too_large', 'invalid');
  });

  it('rejects a payment above the bound as amount_too_large', () => {
    given([placed])
      .when({ ...sample.RecordPaymentAuthorized, amount: eur(MAX_MINOR_UNITS + 1) })
      .thenReject('amount_too_large', 'invalid');
  });
});

describe('RecordStockReserved', () => {
  it('records a line as reserved, once', () => {
    const state = given([placed])
      .when(sample.RecordStockReserved)
      .then([stockReserved('p-2')]);
    expect(state).toMatchObject({ stockReserved: ['p-2'] });
    given([placed, stockReserved('p-2')])
      .when(sample.RecordStockReserved)
      .then([]);
  });

  it('rejects a product that is not on the order', () => {
    const rejection = given([placed])
      .when({ ...sample.RecordStockReserved, productId: 'p-9' })
      .thenReject('unknown_line', 'invalid');
    expect(rejection.reason).toBe('order o-1 has no line for product p-9');
  });

  it('rejects a new recording once the order has left pending', () => {
    given([placed, cancelled])
      .when(sample.RecordStockReserved)
      .thenReject('illegal_transition', 'conflict');
  });
});

describe('RecordStockRejected', () => {
  it('records the rejection and cancels the order at once, once', () => {
    const rejected: OrderEvent = {
      type: 'OrderStockRejected',
      orderId,
      customerId,
      productId: 'p-2',
      reason: 'only 0 units available, 1 requested',
    };
    const outOfStock: OrderEvent = {
      type: 'OrderCancelled',
      orderId,
      customerId,
      reason: 'out of stock: only 0 units available, 1 requested',
    };
    const state = given([placed]).when(sample.RecordStockRejected).then([rejected, outOfStock]);
    expect(state).toMatchObject({ status: 'cancelled', stockRejected: [{ productId: 'p-2' }] });
    given([placed, rejected, outOfStock]).when(sample.RecordStockRejected).then([]);
  });

  it('rejects an unknown line, an empty reason and a non-pending order', () => {
    given([placed])
      .when({ ...sample.RecordStockRejected, productId: 'p-9' })
      .thenReject('unknown_line', 'invalid');
    given([placed])
      .when({ ...sample.RecordStockRejected, reason: '' })
      .thenReject('invalid_order', 'invalid');
    given([placed, cancelled])
      .when(sample.RecordStockRejected)
      .thenReject('illegal_transition', 'conflict');
  });
});

describe('RecordPaymentAuthorized', () => {
  it('confirms an order whose stock is all reserved: one event carries the payment', () => {
    const state = given([placed, stockReserved('p-1'), stockReserved('p-2')])
      .when(sample.RecordPaymentAuthorized)
      .then([
        { type: 'OrderConfirmed', orderId, customerId, paymentId: 'pay-1', amount: eur(2000) },
      ]);
    expect(state).toMatchObject({ status: 'confirmed', payment: { paymentId: 'pay-1' } });
  });

  it('records the authorization, once, while stock is still being reserved', () => {
    const state = given([placed]).when(sample.RecordPaymentAuthorized).then([authorized]);
    expect(state).toMatchObject({ payment: { paymentId: 'pay-1', amount: eur(2000) } });
    given([placed, authorized]).when(sample.RecordPaymentAuthorized).then([]);
  });

  it('rejects an amount other than the total', () => {
    const rejection = given([placed])
      .when({ ...sample.RecordPaymentAuthorized, amount: eur(1999) })
      .thenReject('amount_mismatch', 'invalid');
    expect(rejection.reason).toContain('1999 EUR');
    expect(rejection.reason).toContain('2000 EUR');
    given([placed])
      .when({ ...sample.RecordPaymentAuthorized, amount: { amount: 2000, currency: 'USD' } })
      .thenReject('amount_mismatch', 'invalid');
  });

  it('rejects a second, different payment', () => {
    given([placed, authorized])
      .when({ ...sample.RecordPaymentAuthorized, paymentId: 'pay-2' })
      .thenReject('illegal_transition', 'conflict');
  });

  it('replaces an earlier failure', () => {
    const failed: OrderEvent = {
      type: 'OrderPaymentFailed',
      orderId,
      customerId,
      reason: 'declined',
    };
    const state = given([placed, failed]).when(sample.RecordPaymentAuthorized).then([authorized]);
    expect(state).toMatchObject({ paymentFailure: null });
  });

  it('rejects a malformed payment as invalid_order', () => {
    given([placed])
      .when({ ...sample.RecordPaymentAuthorized, paymentId: '' })
      .thenReject('invalid_order', 'invalid');
    given([placed])
      .when({ ...sample.RecordPaymentAuthorized, amount: eur(-1) })
      .thenReject('invalid_order', 'invalid');
  });
});

describe('RecordPaymentFailed', () => {
  it('records the failure and cancels the order at once', () => {
    const state = given([placed, stockReserved('p-1'), stockReserved('p-2')])
      .when(sample.RecordPaymentFailed)
      .then([
        { type: 'OrderPaymentFailed', orderId, customerId, reason: 'card declined' },
        { type: 'OrderCancelled', orderId, customerId, reason: 'payment failed: card declined' },
      ]);
    expect(state).toMatchObject({
      status: 'cancelled',
      payment: null,
      paymentFailure: 'card declined',
    });
  });

  it('withdraws an earlier authorization (the latest word on payment wins)', () => {
    const state = given([
      ...ready,
      { type: 'OrderPaymentFailed', orderId, customerId, reason: 'x' },
    ]).when(sample.ShipOrder).state;
    expect(state).toMatchObject({ payment: null, paymentFailure: 'x' });
  });

  it('rejects an empty reason', () => {
    given([placed])
      .when({ ...sample.RecordPaymentFailed, reason: ' ' })
      .thenReject('invalid_order', 'invalid');
  });
});

describe('ConfirmOrder', () => {
  it('confirms once every line is reserved and the payment authorized', () => {
    const state = given(ready).when(sample.ConfirmOrder).then([confirmed]);
    expect(statusOf(state)).toBe('confirmed');
  });

  it('is not ready while a line lacks stock or payment is missing', () => {
    const rejection = given([placed, stockReserved('p-1')])
      .when(sample.ConfirmOrder)
      .thenReject('not_ready', 'conflict');
    expect(rejection.reason).toBe(
      'order o-1 is not ready: stock not reserved for p-2; no payment authorized',
    );
    given([placed, stockReserved('p-1'), authorized])
      .when(sample.ConfirmOrder)
      .thenReject('not_ready', 'conflict');
    given([placed, stockReserved('p-1'), stockReserved('p-2')])
      .when(sample.ConfirmOrder)
      .thenReject('not_ready', 'conflict');
  });
});

describe('ShipOrder', () => {
  it('ships with or without a tracking number (absent is null in the event)', () => {
    const state = given([...ready, confirmed])
      .when(sample.ShipOrder)
      .then([shipped]);
    expect(state).toMatchObject({ status: 'shipped', trackingNumber: 'TRK-1' });
    const untracked: OrderEvent = {
      type: 'OrderShipped',
      orderId,
      customerId,
      trackingNumber: null,
    };
    given([...ready, confirmed])
      .when({ type: 'ShipOrder', orderId })
      .then([untracked]);
    given([...ready, confirmed])
      .when({ type: 'ShipOrder', orderId, trackingNumber: null })
      .then([untracked]);
  });

  it('rejects an empty tracking number', () => {
    given([...ready, confirmed])
      .when({ ...sample.ShipOrder, trackingNumber: '' })
      .thenReject('invalid_order', 'invalid');
  });
});

describe('DeliverOrder, CancelOrder, ReturnOrder', () => {
  it('deliver after shipping, return after delivery, with reasons kept', () => {
    const deliveredState = given([...ready, confirmed, shipped])
      .when(sample.DeliverOrder)
      .then([delivered]);
    expect(statusOf(deliveredState)).toBe('delivered');
    const returnedState = given([...ready, confirmed, shipped, delivered])
      .when(sample.ReturnOrder)
      .then([returned]);
    expect(returnedState).toMatchObject({ status: 'returned', returnReason: 'broken' });
  });

  it('cancels before shipment, keeping the reason', () => {
    const state = given([placed]).when(sample.CancelOrder).then([cancelled]);
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'changed my mind' });
    given([...ready, confirmed])
      .when(sample.CancelOrder)
      .then([cancelled]);
  });

  it('says why a transition is illegal', () => {
    const rejection = given([...ready, confirmed, shipped])
      .when(sample.CancelOrder)
      .thenReject('illegal_transition', 'conflict');
    expect(rejection.reason).toBe(
      'cannot cancel: order o-1 is shipped (allowed only when pending or confirmed)',
    );
  });

  it('lets a customer cancel or return only its own order; another customer is told it does not exist', () => {
    given([placed])
      .when({ ...sample.CancelOrder, customerId: 'c-1' })
      .then([cancelled]);
    given([placed])
      .when({ ...sample.CancelOrder, customerId: 'c-2' })
      .thenReject('order_not_found', 'not_found');
    given([...ready, confirmed, shipped, delivered])
      .when({ ...sample.ReturnOrder, customerId: 'c-2' })
      .thenReject('order_not_found', 'not_found');
    given([...ready, confirmed, shipped, delivered])
      .when({ ...sample.ReturnOrder, customerId: 'c-1' })
      .then([returned]);
  });

  it('require a reason to cancel or return', () => {
    given([placed])
      .when({ ...sample.CancelOrder, reason: '' })
      .thenReject('invalid_order', 'invalid');
    given([...ready, confirmed, shipped, delivered])
      .when({ ...sample.ReturnOrder, reason: '' })
      .thenReject('invalid_order', 'invalid');
  });
});

describe('status transitions: every status × every command', () => {
  /** How each status is reached. In `pending`, p-1 is reserved, p-2 is not, nothing is paid. */
  const histories: Record<string, OrderEvent[]> = {
    pending: [placed, stockReserved('p-1')],
    confirmed: [...ready, confirmed],
    shipped: [...ready, confirmed, shipped],
    delivered: [...ready, confirmed, shipped, delivered],
    returned: [...ready, confirmed, shipped, delivered, returned],
    'cancelled (from pending)': [placed, stockReserved('p-1'), cancelled],
    'cancelled (from confirmed)': [...ready, confirmed, cancelled],
  };

  // ok: accepted with one event; noop: accepted with none (already recorded); else the code.
  // A payment authorized after a cancellation is still recorded, so the saga refunds it.
  // cancels: accepted, the recording followed by OrderCancelled.
  type Cell = 'ok' | 'cancels' | 'noop' | 'illegal_transition' | 'not_ready' | 'order_exists';
  const X = 'illegal_transition';
  // biome-ignore format: a table reads best as a table
  const table: Record<string, Record<OrderCommandType, Cell>> = {
    //                                Place           StockRes  StockRej  PayAuth  PayFail  Confirm      Ship  Deliver  Cancel  Return
    pending:                      row('order_exists', 'ok',     'cancels','ok',    'cancels','not_ready', X,    X,       'ok',   X),
    confirmed:                    row('order_exists', 'noop',   X,        'noop',  X,       X,           'ok', X,       'ok',   X),
    shipped:                      row('order_exists', 'noop',   X,        'noop',  X,       X,           X,    'ok',    X,      X),
    delivered:                    row('order_exists', 'noop',   X,        'noop',  X,       X,           X,    X,       X,      'ok'),
    returned:                     row('order_exists', 'noop',   X,        'noop',  X,       X,           X,    X,       X,      X),
    'cancelled (from pending)':   row('order_exists', X,        X,        'ok',    X,       X,           X,    X,       X,      X),
    'cancelled (from confirmed)': row('order_exists', 'noop',   X,        'noop',  X,       X,           X,    X,       X,      X),
  };

  /** Cells in ORDER_COMMAND_TYPES order. */
  function row(...cells: Cell[]): Record<OrderCommandType, Cell> {
    if (cells.length !== ORDER_COMMAND_TYPES.length) throw new Error('a row needs every command');
    return Object.fromEntries(ORDER_COMMAND_TYPES.map((type, i) => [type, cells[i]])) as Record<
      OrderCommandType,
      Cell
    >;
  }

  /** Where a successful command leaves the order. */
  const after: Partial<Record<OrderCommandType, OrderStatus>> = {
    ConfirmOrder: 'confirmed',
    ShipOrder: 'shipped',
    DeliverOrder: 'delivered',
    CancelOrder: 'cancelled',
    ReturnOrder: 'returned',
  };

  it('covers every status', () => {
    const reached = Object.values(histories).map((h) => statusOf(fold(orderDecider, h)));
    expect(new Set(reached)).toEqual(new Set(ORDER_STATUSES));
  });

  const cases = Object.entries(table).flatMap(([status, cells]) =>
    ORDER_COMMAND_TYPES.map((type) => [status, type, cells[type]] as const),
  );

  it.each(cases)('%s + %s → %s', (status, type, cell) => {
    const history = histories[status] ?? [];
    const when = given(history).when(sample[type]);
    if (cell === 'noop') {
      when.then([]);
    } else if (cell === 'cancels') {
      expect(when.decision).toMatchObject({ ok: true, events: [{}, { type: 'OrderCancelled' }] });
      expect(statusOf(when.then(when.decision.ok ? when.decision.events : []))).toBe('cancelled');
    } else if (cell === 'ok') {
      expect(when.decision).toMatchObject({ ok: true, events: [{ orderId, customerId }] });
      if (!when.decision.ok) return;
      expect(when.decision.events).toHaveLength(1);
      const next = when.then(when.decision.events);
      const before = statusOf(when.state);
      expect(statusOf(next)).toBe(after[type] ?? before);
    } else {
      when.thenReject(cell);
    }
  });
});

describe('customerId on every event', () => {
  it("copies the customerId of the order's OrderPlaced into every event it emits", () => {
    const other = 'c-77';
    const placedByOther: OrderEvent = { ...placed, customerId: other };
    const runs: OrderCommand[][] = [
      [
        sample.RecordStockReserved,
        sample.RecordPaymentAuthorized,
        { type: 'RecordStockReserved', orderId, productId: 'p-1' },
        sample.ConfirmOrder,
        sample.ShipOrder,
        sample.DeliverOrder,
        sample.ReturnOrder,
      ],
      [{ type: 'RecordStockRejected', orderId, productId: 'p-1', reason: 'none left' }],
      [{ type: 'RecordPaymentFailed', orderId, reason: 'declined' }],
    ];
    const emitted: OrderEvent[] = [];
    for (const commands of runs) {
      const history: OrderEvent[] = [placedByOther];
      for (const command of commands) {
        const decision = orderDecider.decide(command, fold(orderDecider, history));
        if (!decision.ok) throw new Error(`${command.type}: ${decision.rejection.reason}`);
        history.push(...decision.events);
        emitted.push(...decision.events);
      }
    }
    expect(new Set(emitted.map((e) => e.type))).toEqual(
      new Set(ORDER_EVENT_TYPES.filter((t) => t !== 'OrderPlaced')),
    );
    for (const event of emitted) expect(event).toMatchObject({ orderId, customerId: other });
  });
});
