import type { Money } from '../money';
import type { CancelOrder, OrderCommand, OrderLine } from '../order/commands';
import { orderDecider } from '../order/decider';
import type { OrderEvent } from '../order/events';
import { evolveOrder, initialOrderState, type OrderState } from '../order/state';
import { productDecider } from '../product/decider';
import type { StockReserved } from '../product/messages';
import { initialProductState, type ProductState } from '../product/state';
import { deepFreeze, fold } from '../test-kit';
import {
  type AuthorizePaymentAction,
  type FulfilmentAction,
  type ProductCommandAction,
  recordPaymentOutcome,
  refundPayment,
} from './actions';
import { type CommandRefusal, recordStockRejected, recordStockReserved } from './reservations';
import { fulfilmentProgress, overdueOrders, reactToOrderEvent } from './saga';

/**
 * The fulfilment workflow wired to the order and product deciders, the reservation translation
 * and a gateway, in one process: every party's inbox drained in turn, or interleaved at random
 * (by seed) with redeliveries, must end with the stock and the money squared.
 */

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

// ---- simulation: the saga, the order, the products and a gateway, wired together ----

/** A tiny deterministic PRNG (mulberry32), so every interleaving can be replayed by seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface SimulationSetup {
  stock: Record<string, number>;
  lines: OrderLine[];
  /** The gateway declines every payment. */
  declinePayments?: boolean;
  /** The gateway never answers (the deadline sweep has to step in). */
  gatewayHangs?: boolean;
  /** The gateway charges, but its answer is lost every time (the payment stays in doubt). */
  gatewayLosesAnswers?: boolean;
  /** The customer asks to cancel at some point (before the run when no seed is given). */
  customerCancels?: boolean;
  /** Interleave the parties at random; without a seed each party drains its queue in turn. */
  seed?: number;
}

interface SimulationResult {
  order: OrderState;
  sagaView: OrderState;
  products: Map<string, ProductState>;
  authorizedAtGateway: Set<string>;
  refunded: Set<string>;
  /** Payment keys voided at the gateway. */
  voided: Set<string>;
  /** Payment keys whose charge the gateway gave back (by a refund or a void), once each. */
  givenBack: Set<string>;
  /** Payment keys the gateway declined because they were voided first. */
  declinedAsVoided: Set<string>;
  rejectedCommands: string[];
  log: OrderEvent[];
}

function simulate(setup: SimulationSetup): SimulationResult {
  let clock = T0;
  const total = setup.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0);

  // The order's owner: state, log (with occurredAt) and commandId idempotency.
  let order: OrderState = initialOrderState;
  const log: { event: OrderEvent; occurredAt: number }[] = [];
  const seen = new Set<string>();
  const rejectedCommands: string[] = [];
  const products = new Map<string, ProductState>();
  const productInbox: ProductCommandAction[] = [];
  /** What the product owners appended that the saga's translator reads: its reservations'
   *  StockReserved events (with their command id) and refusals (reply records). */
  const productAnswers: (
    | { event: StockReserved; commandId: string }
    | { refusal: CommandRefusal }
  )[] = [];
  const gatewayInbox: AuthorizePaymentAction[] = [];
  const authorizedAtGateway = new Set<string>();
  const refunded = new Set<string>();
  const voided = new Set<string>();
  const givenBack = new Set<string>();
  const declinedAsVoided = new Set<string>();

  function sendOrder(commandId: string, command: OrderCommand): void {
    if (seen.has(commandId)) return;
    seen.add(commandId);
    const decision = orderDecider.decide(command, order);
    if (!decision.ok) {
      rejectedCommands.push(`${command.type}:${decision.rejection.code}`);
      // The engine's rule: money authorized for an order that no longer takes it goes back.
      if (command.type === 'RecordPaymentAuthorized') {
        carryOut(refundPayment(command.orderId, command.paymentId));
      }
      return;
    }
    for (const event of decision.events) {
      order = deepFreeze(orderDecider.evolve(order, event));
      log.push({ event, occurredAt: clock });
    }
  }

  for (const [productId, initialStock] of Object.entries(setup.stock)) {
    const decision = productDecider.decide(
      {
        type: 'CreateProduct',
        productId,
        sku: `SKU-${productId}`,
        name: productId,
        description: '',
        category: 'test',
        price: eur(100),
        initialStock,
      },
      initialProductState,
    );
    if (!decision.ok) throw new Error(decision.rejection.reason);
    products.set(productId, fold(productDecider, decision.events));
  }
  sendOrder('customer:place', { type: 'PlaceOrder', orderId, customerId, lines: setup.lines });
  expect(order).toMatchObject({ status: 'pending', total: eur(total) });

  const customerCancel: CancelOrder = {
    type: 'CancelOrder',
    orderId,
    customerId,
    reason: 'changed my mind',
  };
  if (setup.customerCancels && setup.seed === undefined) {
    sendOrder('customer:cancel', customerCancel);
  }

  function carryOut(action: FulfilmentAction): void {
    switch (action.kind) {
      case 'command':
        if (action.aggregate === 'product') productInbox.push(action);
        else sendOrder(action.commandId, action.command);
        return;
      case 'authorize-payment':
        gatewayInbox.push(action);
        return;
      case 'refund-payment': {
        const paymentKey = action.idempotencyKey.replace('refund:', 'pay:');
        expect(authorizedAtGateway.has(paymentKey)).toBe(true);
        refunded.add(action.idempotencyKey);
        givenBack.add(paymentKey);
        return;
      }
      case 'void-payment':
        // The gateway's void: gives back a charge made under the key, declines it from now on.
        voided.add(action.idempotencyKey);
        if (authorizedAtGateway.has(action.idempotencyKey)) givenBack.add(action.idempotencyKey);
        return;
    }
  }

  // The saga: reads the log in order, keeps its own view of the order.
  let sagaView: OrderState = initialOrderState;
  let cursor = 0;
  let previous: { before: OrderState; event: OrderEvent; occurredAt: number } | null = null;
  function react(before: OrderState, event: OrderEvent, occurredAt: number): FulfilmentAction[] {
    const after = deepFreeze(evolveOrder(before, event));
    sagaView = after;
    return reactToOrderEvent({
      before,
      after,
      event,
      occurredAt,
      now: clock,
      deadlineMs: DEADLINE,
    });
  }
  function sagaStep(): void {
    const entry = log[cursor];
    if (!entry) return;
    cursor += 1;
    previous = { before: sagaView, event: entry.event, occurredAt: entry.occurredAt };
    for (const action of react(sagaView, entry.event, entry.occurredAt)) carryOut(action);
  }
  /** A redelivery after a crash: the same event again from the same state (once per event). */
  function sagaRedelivery(): void {
    if (!previous) return;
    const { before, event, occurredAt } = previous;
    previous = null;
    for (const action of react(before, event, occurredAt)) {
      carryOut(action);
    }
  }

  /** The product owners: each product takes its commands in order, products run independently. */
  function productStep(pick = 0): void {
    const heads = productInbox
      .map((action, i) => ({ action, i }))
      .filter(
        ({ action, i }) =>
          productInbox.findIndex((a) => a.command.productId === action.command.productId) === i,
      );
    const head = heads[Math.floor(pick * heads.length)];
    if (!head) return;
    const { action } = head;
    productInbox.splice(head.i, 1);
    if (seen.has(action.commandId)) return;
    seen.add(action.commandId);
    const { productId } = action.command;
    const state = products.get(productId) ?? initialProductState;
    const decision = productDecider.decide(action.command, state);
    if (!decision.ok) {
      productAnswers.push({
        refusal: {
          commandId: action.commandId,
          commandType: action.command.type,
          reason: decision.rejection.reason,
        },
      });
      return;
    }
    products.set(
      productId,
      decision.events.reduce((s, e) => deepFreeze(productDecider.evolve(s, e)), state),
    );
    for (const event of decision.events)
      if (event.type === 'StockReserved')
        productAnswers.push({ event, commandId: action.commandId });
  }

  /** The saga's translator: the product side's answers, in their log order, to order commands
   *  (a redelivery sends the same command id again, which the order's owner absorbs). */
  let lastAnswer: (typeof productAnswers)[number] | undefined;
  function translatorStep(redeliver = false): void {
    const answer = redeliver ? lastAnswer : productAnswers.shift();
    if (!answer) return;
    lastAnswer = answer;
    const command =
      'event' in answer
        ? recordStockReserved(answer.event, answer.commandId)
        : recordStockRejected(answer.refusal);
    if (command) sendOrder(command.commandId, command.command);
  }

  function gatewayStep(): void {
    if (setup.gatewayHangs) return;
    const action = gatewayInbox.shift();
    if (!action) return;
    if (voided.has(action.idempotencyKey)) {
      declinedAsVoided.add(action.idempotencyKey);
      carryOut(recordPaymentOutcome(action.orderId, { authorized: false, reason: 'voided' }));
      return;
    }
    if (setup.declinePayments) {
      carryOut(
        recordPaymentOutcome(action.orderId, { authorized: false, reason: 'card declined' }),
      );
      return;
    }
    authorizedAtGateway.add(action.idempotencyKey);
    if (setup.gatewayLosesAnswers) return;
    carryOut(
      recordPaymentOutcome(action.orderId, {
        authorized: true,
        paymentId: `gw-${action.idempotencyKey}`,
        amount: action.amount,
      }),
    );
  }

  const busy = () =>
    cursor < log.length ||
    productInbox.length > 0 ||
    productAnswers.length > 0 ||
    (gatewayInbox.length > 0 && !setup.gatewayHangs);

  if (setup.seed === undefined) {
    while (busy()) {
      while (cursor < log.length) sagaStep();
      productStep();
      translatorStep();
      gatewayStep();
    }
  } else {
    const next = random(setup.seed);
    let cancelAt = setup.customerCancels ? Math.floor(next() * 30) : -1;
    for (let steps = 0; busy() || cancelAt >= 0; steps += 1) {
      if (steps > 10_000) throw new Error('the simulation does not settle');
      clock += 1_000;
      if (cancelAt-- === 0) sendOrder('customer:cancel', customerCancel);
      const pick = next();
      if (pick < 0.35) sagaStep();
      else if (pick < 0.6) productStep(next());
      else if (pick < 0.75) translatorStep();
      else if (pick < 0.9) gatewayStep();
      else if (pick < 0.95) sagaRedelivery();
      else translatorStep(true);
    }
  }

  // Anything still pending gets swept once the deadline has passed.
  clock = T0 + DEADLINE + 60_000;
  for (const action of overdueOrders(
    [[orderId, { state: sagaView, placedAt: T0 }]],
    clock,
    DEADLINE,
  )) {
    carryOut(action);
  }
  while (busy()) {
    while (cursor < log.length) sagaStep();
    productStep();
    translatorStep();
  }

  expect(sagaView).toStrictEqual(order);
  return {
    order,
    sagaView,
    products,
    authorizedAtGateway,
    refunded,
    voided,
    givenBack,
    declinedAsVoided,
    rejectedCommands,
    log: log.map((entry) => entry.event),
  };
}

const reservationsOf = (products: Map<string, ProductState>) =>
  Object.fromEntries(
    [...products].map(([id, state]) => [
      id,
      state.exists ? { available: state.available, held: state.reservations.toJSON() } : null,
    ]),
  );

describe('order fulfilment saga: simulation through the deciders', () => {
  const simLines = [line('p-1', 2, 500), line('p-2', 1, 1000), line('p-3', 3, 100)];
  const plenty = { 'p-1': 10, 'p-2': 5, 'p-3': 3 };

  it('ends confirmed with the stock held for the order', () => {
    const result = simulate({ stock: plenty, lines: simLines });
    expect(fulfilmentProgress(result.order)).toBe('confirmed');
    expect(result.log.map((e) => e.type)).toStrictEqual([
      'OrderPlaced',
      'OrderStockReserved',
      'OrderStockReserved',
      'OrderStockReserved',
      'OrderConfirmed',
    ]);
    expect(reservationsOf(result.products)).toStrictEqual({
      'p-1': { available: 8, held: { [orderId]: 2 } },
      'p-2': { available: 4, held: { [orderId]: 1 } },
      'p-3': { available: 0, held: { [orderId]: 3 } },
    });
    expect(result.refunded).toStrictEqual(new Set());
    expect(result.rejectedCommands).toStrictEqual([]);
  });

  it('a line out of stock: ends cancelled with every line released', () => {
    const result = simulate({ stock: { ...plenty, 'p-2': 0 }, lines: simLines });
    expect(result.order).toMatchObject({
      status: 'cancelled',
      cancelReason: 'out of stock: only 0 units available, 1 requested',
    });
    expect(reservationsOf(result.products)).toStrictEqual({
      'p-1': { available: 10, held: {} },
      'p-2': { available: 0, held: {} },
      'p-3': { available: 3, held: {} },
    });
    expect(result.authorizedAtGateway).toStrictEqual(new Set());
  });

  it('a declined payment: ends cancelled with every line released', () => {
    const result = simulate({ stock: plenty, lines: simLines, declinePayments: true });
    expect(result.order).toMatchObject({
      status: 'cancelled',
      cancelReason: 'payment failed: card declined',
    });
    expect(reservationsOf(result.products)).toStrictEqual({
      'p-1': { available: 10, held: {} },
      'p-2': { available: 5, held: {} },
      'p-3': { available: 3, held: {} },
    });
  });

  it('a gateway that never answers: the deadline sweep cancels and releases', () => {
    const result = simulate({ stock: plenty, lines: simLines, gatewayHangs: true });
    expect(result.order).toMatchObject({
      status: 'cancelled',
      cancelReason: 'deadline passed: not settled within 900 s',
    });
    expect(reservationsOf(result.products)).toStrictEqual({
      'p-1': { available: 10, held: {} },
      'p-2': { available: 5, held: {} },
      'p-3': { available: 3, held: {} },
    });
  });

  it('a gateway that charges but loses its answer: the deadline sweep cancels and voids the charge', () => {
    const result = simulate({ stock: plenty, lines: simLines, gatewayLosesAnswers: true });
    expect(result.order).toMatchObject({
      status: 'cancelled',
      cancelReason: 'deadline passed: not settled within 900 s',
    });
    expect(result.authorizedAtGateway).toStrictEqual(new Set(['pay:o-1']));
    expect(result.voided).toStrictEqual(new Set(['pay:o-1']));
    expect(result.givenBack).toStrictEqual(result.authorizedAtGateway);
  });

  it('a customer cancelling at once: reservations in flight are released after them', () => {
    const result = simulate({ stock: plenty, lines: simLines, customerCancels: true });
    expect(result.order).toMatchObject({ status: 'cancelled', cancelReason: 'changed my mind' });
    expect(reservationsOf(result.products)).toStrictEqual({
      'p-1': { available: 10, held: {} },
      'p-2': { available: 5, held: {} },
      'p-3': { available: 3, held: {} },
    });
  });

  const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
  it.each([
    ['enough stock', { stock: plenty }, 'confirmed'],
    ['a line out of stock', { stock: { ...plenty, 'p-3': 2 } }, 'cancelled'],
    ['a declined payment', { stock: plenty, declinePayments: true }, 'cancelled'],
    ['a customer cancelling', { stock: plenty, customerCancels: true }, 'cancelled'],
  ] as const)(
    'any interleaving with redeliveries (%s) ends %s, stock and money squared',
    (_label, variant, status) => {
      for (const seed of seeds) {
        const result = simulate({ ...variant, lines: simLines, seed });
        expect(fulfilmentProgress(result.order)).toBe(status);
        for (const [productId, initialStock] of Object.entries(variant.stock)) {
          const state = result.products.get(productId);
          if (!state?.exists) throw new Error(`no product ${productId}`);
          const held = state.reservations.get(orderId) ?? 0;
          expect(status === 'confirmed' ? held > 0 : held === 0).toBe(true);
          expect(state.available + held).toBe(initialStock);
        }
        // Every authorization the gateway gave is either the order's payment or given back.
        const kept = status === 'confirmed' ? 1 : 0;
        expect(result.authorizedAtGateway.size - result.givenBack.size).toBe(kept);
      }
    },
  );

  it('the interleavings reach the hard cases of a customer cancelling', () => {
    const reached = new Set<string>();
    for (const seed of seeds) {
      const { log, rejectedCommands, refunded, voided, givenBack, declinedAsVoided } = simulate({
        stock: plenty,
        lines: simLines,
        customerCancels: true,
        seed,
      });
      const types = log.map((event) => event.type);
      if (rejectedCommands.includes('RecordStockReserved:illegal_transition')) {
        reached.add('a reservation made after the cancellation, then released');
      }
      if (types.includes('OrderConfirmed') && refunded.size === 1) {
        reached.add('cancelled after confirmation, its payment refunded');
      }
      const cancelledAt = types.indexOf('OrderCancelled');
      if (
        cancelledAt >= 0 &&
        types.indexOf('OrderPaymentAuthorized', cancelledAt) > cancelledAt &&
        refunded.size === 1
      ) {
        reached.add('refunded an authorization recorded after the cancellation');
      }
      if (voided.size === 1 && givenBack.size === 1 && refunded.size === 1) {
        // The gateway charged, the cancellation came before the answer was recorded: the void
        // and the refund of the late authorization give the charge back once.
        reached.add('voided a charge, then refunded its late authorization: given back once');
      }
      if (declinedAsVoided.size === 1)
        reached.add('declined an authorize that came after the void');
    }
    expect([...reached].sort()).toStrictEqual([
      'a reservation made after the cancellation, then released',
      'cancelled after confirmation, its payment refunded',
      'declined an authorize that came after the void',
      'refunded an authorization recorded after the cancellation',
      'voided a charge, then refunded its late authorization: given back once',
    ]);
  });
});
