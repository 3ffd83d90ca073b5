/** The product side's answers to the saga's reservations, as the order commands that record
 *  them (DESIGN §6). The product's owner writes nothing for the order: a reservation shows as a
 *  StockReserved event, a refusal as a reply record; both name the saga's ReserveStock by its
 *  command id, which tells the order and the line. Pure: no I/O. */
import type { StockReserved } from '../product/messages';
import { type OrderCommandAction, parseReserveCommandId, stockOutcomeCommandId } from './actions';

/** A refused command as its reply record tells it. */
export interface CommandRefusal {
  commandId: string;
  commandType: string;
  reason: string;
}

const recorded = (
  orderId: string,
  productId: string,
  command: OrderCommandAction['command'],
): OrderCommandAction => ({
  kind: 'command',
  aggregate: 'order',
  command,
  commandId: stockOutcomeCommandId(orderId, productId),
});

/**
 * RecordStockReserved for a StockReserved appended by the saga's ReserveStock (`commandId`, from
 * the event's headers); null for a reservation the saga did not ask for (made by hand: not part
 * of the order's fulfilment).
 */
export function recordStockReserved(
  event: StockReserved,
  commandId: string,
): OrderCommandAction | null {
  const asked = parseReserveCommandId(commandId);
  if (!asked || asked.orderId !== event.orderId || asked.productId !== event.productId) return null;
  return recorded(event.orderId, event.productId, {
    type: 'RecordStockReserved',
    orderId: event.orderId,
    productId: event.productId,
  });
}

/** RecordStockRejected for a refused ReserveStock of the saga, with the product's reason; null for
 *  any other refusal. */
export function recordStockRejected(refusal: CommandRefusal): OrderCommandAction | null {
  if (refusal.commandType !== 'ReserveStock') return null;
  const asked = parseReserveCommandId(refusal.commandId);
  if (!asked) return null;
  return recorded(asked.orderId, asked.productId, {
    type: 'RecordStockRejected',
    orderId: asked.orderId,
    productId: asked.productId,
    reason: refusal.reason,
  });
}
