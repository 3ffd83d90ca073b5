import type { OrderStatus } from './state';

/**
 * Where order fulfilment (DESIGN §6) is with an order, as readers show it: `pending_stock`
 * (pending, some line's stock not reserved yet), `pending_payment` (pending, every line reserved:
 * payment next), else the status itself. Everything but the two pending steps is settled: the
 * saga is done with the order.
 */
export const ORDER_PROGRESS = [
  'pending_stock',
  'pending_payment',
  'confirmed',
  'cancelled',
  'shipped',
  'delivered',
  'returned',
] as const satisfies readonly (OrderStatus | 'pending_stock' | 'pending_payment')[];

export type OrderProgress = (typeof ORDER_PROGRESS)[number];

/** The progress of an order in `status` whose lines are all reserved (`linesReserved`) or not. */
export function orderProgress(status: OrderStatus, linesReserved: boolean): OrderProgress {
  if (status === 'pending') return linesReserved ? 'pending_payment' : 'pending_stock';
  return status;
}

/** Is fulfilment done with the order (nothing will change its progress on its own)? */
export const isSettledProgress = (progress: OrderProgress): boolean =>
  progress !== 'pending_stock' && progress !== 'pending_payment';
