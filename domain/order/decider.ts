import { accept, type Decider, type Decision, reject } from '../decider';
import {
  amountTooLarge,
  amountTooLargeRejection,
  copyMoney,
  formatMoney,
  isMoney,
  money,
  moneyProblem,
  sameMoney,
} from '../money';
import { isAbsent, isPositiveCount, isRecord, isText, MAX_COUNT, show } from '../validation';
import type {
  CancelOrder,
  ConfirmOrder,
  DeliverOrder,
  OrderCommand,
  OrderLine,
  PlaceOrder,
  RecordPaymentAuthorized,
  RecordPaymentFailed,
  RecordStockRejected,
  RecordStockReserved,
  ReturnOrder,
  ShipOrder,
} from './commands';
import type { OrderEvent } from './events';
import {
  evolveOrder,
  initialOrderState,
  type Order,
  type OrderState,
  type OrderStatus,
} from './state';

type Outcome = Decision<OrderEvent>;

export const MAX_ORDER_LINES = 100;

// Checks run in a fixed order: the command's own values (invalid), then existence
// (not_found / exists), then the rules of the current state (conflict).

const invalidOrder = (reason: string): Outcome => reject('invalid', 'invalid_order', reason);
const notFound = (orderId: string): Outcome =>
  reject('not_found', 'order_not_found', `order ${orderId} does not exist`);

/** A customer acting on an order that is not theirs learns nothing of it: not found. */
function notTheirs(
  command: { orderId: string; customerId?: string | null },
  state: OrderState,
): boolean {
  return (
    command.customerId !== undefined &&
    command.customerId !== null &&
    state.exists &&
    state.customerId !== command.customerId
  );
}

/** Where each status-changing or recording command may run from. */
const ALLOWED_FROM = {
  record: ['pending'],
  ConfirmOrder: ['pending'],
  ShipOrder: ['confirmed'],
  DeliverOrder: ['shipped'],
  CancelOrder: ['pending', 'confirmed'],
  ReturnOrder: ['delivered'],
} as const satisfies Record<string, readonly OrderStatus[]>;

/** The illegal-transition rejection when `order` is not in one of `allowed`, else null. */
function transitionProblem(
  order: Order,
  allowed: readonly OrderStatus[],
  action: string,
): Outcome | null {
  if (allowed.includes(order.status)) return null;
  return reject(
    'conflict',
    'illegal_transition',
    `cannot ${action}: order ${order.orderId} is ${order.status} (allowed only when ${allowed.join(' or ')})`,
  );
}

/** Runs `then` on an existing order, else the not-found rejection. */
function withOrder(
  command: { orderId: string },
  state: OrderState,
  then: (order: Order) => Outcome,
): Outcome {
  if (!isText(command.orderId)) return invalidOrder('orderId must not be empty');
  return state.exists ? then(state) : notFound(command.orderId);
}

/** Why the lines cannot make an order, or null; checks every line and the currency. */
function linesProblem(lines: unknown): string | null {
  if (!Array.isArray(lines) || lines.length < 1 || lines.length > MAX_ORDER_LINES) {
    const count = Array.isArray(lines) ? lines.length : show(lines);
    return `an order needs 1 to ${MAX_ORDER_LINES} lines, got ${count}`;
  }
  const seen = new Set<string>();
  let currency: string | undefined;
  for (const [index, line] of lines.entries()) {
    const at = `line ${index + 1}`;
    if (!isRecord(line)) return `${at} must be an object`;
    if (!isText(line.productId)) return `${at}: productId must not be empty`;
    if (!isPositiveCount(line.quantity)) {
      return `${at}: quantity must be a whole number from 1 to ${MAX_COUNT}, got ${show(line.quantity)}`;
    }
    const { unitPrice } = line;
    if (!isMoney(unitPrice)) return moneyProblem(unitPrice, `${at}: unitPrice`);
    if (seen.has(line.productId)) return `${at}: product ${line.productId} appears more than once`;
    seen.add(line.productId);
    currency ??= unitPrice.currency;
    if (unitPrice.currency !== currency) {
      return `${at}: currency ${unitPrice.currency} differs from the order's ${currency}`;
    }
  }
  return null;
}

/** An order's total, or which amount is above MAX_MINOR_UNITS and why. */
export type OrderTotal =
  | { ok: true; amount: number }
  /** `line`: the index of the line at fault; undefined when only the sum is too large. */
  | { ok: false; line: number | undefined; reason: string };

/**
 * The total of `lines`, or the first amount above MAX_MINOR_UNITS: a unit price, a line's
 * total (quantity × unit price) or the running total. Each is checked as it is made, so every
 * sum stays far below 2^53 and exact; a product above the bound compares right even when inexact.
 */
export function orderTotal(lines: readonly OrderLine[]): OrderTotal {
  let amount = 0;
  for (const [index, line] of lines.entries()) {
    const at = `line ${index + 1} (product ${line.productId})`;
    const lineTotal = line.quantity * line.unitPrice.amount;
    const lineProblem =
      amountTooLarge(line.unitPrice.amount, `${at}: the unit price`) ??
      amountTooLarge(lineTotal, `${at}: ${line.quantity} × ${line.unitPrice.amount}, a total`);
    if (lineProblem) return { ok: false, line: index, reason: lineProblem };
    const sumProblem = amountTooLarge(amount + lineTotal, 'the order total');
    if (sumProblem) return { ok: false, line: undefined, reason: sumProblem };
    amount += lineTotal;
  }
  return { ok: true, amount };
}

function placeOrder(command: PlaceOrder, state: OrderState): Outcome {
  if (!isText(command.orderId)) return invalidOrder('orderId must not be empty');
  if (!isText(command.customerId)) return invalidOrder('customerId must not be empty');
  const problem = linesProblem(command.lines);
  if (problem) return invalidOrder(problem);
  const lines = command.lines.map((line) => ({
    productId: line.productId,
    quantity: line.quantity,
    unitPrice: copyMoney(line.unitPrice),
  }));
  const total = orderTotal(lines);
  if (!total.ok) return amountTooLargeRejection(total.reason);
  if (state.exists) {
    return reject('conflict', 'order_exists', `order ${command.orderId} already exists`);
  }
  // linesProblem guarantees at least one line, all in one currency.
  const currency = lines[0]?.unitPrice.currency ?? '';
  return accept({
    type: 'OrderPlaced',
    orderId: command.orderId,
    customerId: command.customerId,
    lines,
    total: money(total.amount, currency),
  });
}

/** Shared by the stock recordings: the product must be one of the order's lines. */
function unknownLine(order: Order, productId: string): Outcome | null {
  if (order.lines.some((line) => line.productId === productId)) return null;
  return reject(
    'invalid',
    'unknown_line',
    `order ${order.orderId} has no line for product ${productId}`,
  );
}

function recordStockReserved(command: RecordStockReserved, state: OrderState): Outcome {
  if (!isText(command.productId)) return invalidOrder('productId must not be empty');
  return withOrder(command, state, (order) => {
    const unknown = unknownLine(order, command.productId);
    if (unknown) return unknown;
    // Applied once: a repeat is a success with nothing new, whatever the status now.
    if (order.stockReserved.includes(command.productId)) return accept();
    return (
      transitionProblem(order, ALLOWED_FROM.record, 'record stock reserved') ??
      accept({
        type: 'OrderStockReserved',
        orderId: order.orderId,
        customerId: order.customerId,
        productId: command.productId,
      })
    );
  });
}

function recordStockRejected(command: RecordStockRejected, state: OrderState): Outcome {
  if (!isText(command.productId)) return invalidOrder('productId must not be empty');
  if (!isText(command.reason)) return invalidOrder('reason must not be empty');
  return withOrder(command, state, (order) => {
    const unknown = unknownLine(order, command.productId);
    if (unknown) return unknown;
    if (order.stockRejected.some((r) => r.productId === command.productId)) return accept();
    // An order that cannot have its stock is cancelled at once: no payment is ever asked for.
    return (
      transitionProblem(order, ALLOWED_FROM.record, 'record stock rejected') ??
      accept(
        {
          type: 'OrderStockRejected',
          orderId: order.orderId,
          customerId: order.customerId,
          productId: command.productId,
          reason: command.reason,
        },
        {
          type: 'OrderCancelled',
          orderId: order.orderId,
          customerId: order.customerId,
          reason: `out of stock: ${command.reason}`,
        },
      )
    );
  });
}

function recordPaymentAuthorized(command: RecordPaymentAuthorized, state: OrderState): Outcome {
  if (!isText(command.paymentId)) return invalidOrder('paymentId must not be empty');
  const problem = moneyProblem(command.amount, 'amount');
  if (problem) return invalidOrder(problem);
  const tooLarge = amountTooLarge(command.amount.amount, 'the payment');
  if (tooLarge) return amountTooLargeRejection(tooLarge);
  return withOrder(command, state, (order) => {
    const { payment } = order;
    if (
      payment &&
      payment.paymentId === command.paymentId &&
      sameMoney(payment.amount, command.amount)
    ) {
      return accept(); // applied once
    }
    // A payment authorized after the order was cancelled (the gateway answered late) is still
    // recorded: the saga reacts to it with a refund, so nobody is charged for a cancelled order.
    const lateForCancelled = order.status === 'cancelled' && !payment;
    const illegal = lateForCancelled
      ? null
      : transitionProblem(order, ALLOWED_FROM.record, 'record a payment');
    if (illegal) return illegal;
    if (payment) {
      return reject(
        'conflict',
        'illegal_transition',
        `cannot record payment ${command.paymentId}: payment ${payment.paymentId} is already authorized for order ${order.orderId}`,
      );
    }
    if (!sameMoney(command.amount, order.total)) {
      return reject(
        'invalid',
        'amount_mismatch',
        `payment of ${formatMoney(command.amount)} does not match the order total of ${formatMoney(order.total)} (minor units)`,
      );
    }
    // Stock reserved and now paid: the order is confirmed by its payment (one event).
    if (order.status === 'pending' && missingStock(order).length === 0) {
      return accept({
        type: 'OrderConfirmed',
        orderId: order.orderId,
        customerId: order.customerId,
        paymentId: command.paymentId,
        amount: copyMoney(command.amount),
      });
    }
    return accept({
      type: 'OrderPaymentAuthorized',
      orderId: order.orderId,
      customerId: order.customerId,
      paymentId: command.paymentId,
      amount: copyMoney(command.amount),
    });
  });
}

/** The order's lines whose stock is not reserved yet. */
function missingStock(order: Order): string[] {
  return order.lines
    .map((line) => line.productId)
    .filter((productId) => !order.stockReserved.includes(productId));
}

function recordPaymentFailed(command: RecordPaymentFailed, state: OrderState): Outcome {
  if (!isText(command.reason)) return invalidOrder('reason must not be empty');
  return withOrder(
    command,
    state,
    // A pending order whose payment failed is cancelled at once (its stock is then released).
    (order) =>
      transitionProblem(order, ALLOWED_FROM.record, 'record a payment failure') ??
      accept(
        {
          type: 'OrderPaymentFailed',
          orderId: order.orderId,
          customerId: order.customerId,
          reason: command.reason,
        },
        {
          type: 'OrderCancelled',
          orderId: order.orderId,
          customerId: order.customerId,
          reason: `payment failed: ${command.reason}`,
        },
      ),
  );
}

function confirmOrder(command: ConfirmOrder, state: OrderState): Outcome {
  return withOrder(command, state, (order) => {
    const illegal = transitionProblem(order, ALLOWED_FROM.ConfirmOrder, 'confirm');
    if (illegal) return illegal;
    const missing = missingStock(order);
    const gaps = [
      ...(missing.length > 0 ? [`stock not reserved for ${missing.join(', ')}`] : []),
      ...(order.payment ? [] : ['no payment authorized']),
    ];
    if (gaps.length > 0) {
      return reject(
        'conflict',
        'not_ready',
        `order ${order.orderId} is not ready: ${gaps.join('; ')}`,
      );
    }
    return accept({
      type: 'OrderConfirmed',
      orderId: order.orderId,
      customerId: order.customerId,
      paymentId: null,
      amount: null,
    });
  });
}

function shipOrder(command: ShipOrder, state: OrderState): Outcome {
  const { trackingNumber } = command;
  if (!isAbsent(trackingNumber) && !isText(trackingNumber)) {
    return invalidOrder('trackingNumber must not be empty when given');
  }
  return withOrder(
    command,
    state,
    (order) =>
      transitionProblem(order, ALLOWED_FROM.ShipOrder, 'ship') ??
      accept({
        type: 'OrderShipped',
        orderId: order.orderId,
        customerId: order.customerId,
        trackingNumber: trackingNumber ?? null,
      }),
  );
}

function deliverOrder(command: DeliverOrder, state: OrderState): Outcome {
  return withOrder(
    command,
    state,
    (order) =>
      transitionProblem(order, ALLOWED_FROM.DeliverOrder, 'deliver') ??
      accept({ type: 'OrderDelivered', orderId: order.orderId, customerId: order.customerId }),
  );
}

function cancelOrder(command: CancelOrder, state: OrderState): Outcome {
  if (!isText(command.reason)) return invalidOrder('reason must not be empty');
  if (notTheirs(command, state)) return notFound(command.orderId);
  return withOrder(
    command,
    state,
    (order) =>
      transitionProblem(order, ALLOWED_FROM.CancelOrder, 'cancel') ??
      accept({
        type: 'OrderCancelled',
        orderId: order.orderId,
        customerId: order.customerId,
        reason: command.reason,
      }),
  );
}

function returnOrder(command: ReturnOrder, state: OrderState): Outcome {
  if (!isText(command.reason)) return invalidOrder('reason must not be empty');
  if (notTheirs(command, state)) return notFound(command.orderId);
  return withOrder(
    command,
    state,
    (order) =>
      transitionProblem(order, ALLOWED_FROM.ReturnOrder, 'return') ??
      accept({
        type: 'OrderReturned',
        orderId: order.orderId,
        customerId: order.customerId,
        reason: command.reason,
      }),
  );
}

function decideOrder(command: OrderCommand, state: OrderState): Outcome {
  if (!isRecord(command)) return invalidOrder('a command must be an object');
  switch (command.type) {
    case 'PlaceOrder':
      return placeOrder(command, state);
    case 'RecordStockReserved':
      return recordStockReserved(command, state);
    case 'RecordStockRejected':
      return recordStockRejected(command, state);
    case 'RecordPaymentAuthorized':
      return recordPaymentAuthorized(command, state);
    case 'RecordPaymentFailed':
      return recordPaymentFailed(command, state);
    case 'ConfirmOrder':
      return confirmOrder(command, state);
    case 'ShipOrder':
      return shipOrder(command, state);
    case 'DeliverOrder':
      return deliverOrder(command, state);
    case 'CancelOrder':
      return cancelOrder(command, state);
    case 'ReturnOrder':
      return returnOrder(command, state);
    default: {
      const unknown: { type?: unknown } = command;
      return invalidOrder(`unknown order command type ${show(unknown.type)}`);
    }
  }
}

export const orderDecider: Decider<OrderCommand, OrderEvent, OrderState> = {
  initialState: initialOrderState,
  decide: decideOrder,
  evolve: evolveOrder,
};

/** The aggregate an order command or event belongs to (its partition key). */
export const aggregateId = (message: OrderCommand | OrderEvent): string => message.orderId;
