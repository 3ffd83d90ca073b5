/** One realistic sample per event and command type, for round-trip tests anywhere: the product
 *  ones from their modules in domain/product/commands/, the order ones here. */
import type {
  Money,
  OrderCommand,
  OrderEvent,
  OrderLine,
  ProductCommand,
  ProductEvent,
} from '../domain';
import { PRODUCT_COMMANDS } from '../domain/product/messages';

const PRODUCT = 'prod-0193c0de-7a1b-7c2d-8e3f-4a5b6c7d8e9f';
const OTHER_PRODUCT = 'prod-0193c0de-7a1b-7c2d-8e3f-000000000002';
const ORDER = 'ord-0193c0df-1111-7222-8333-444455556666';
const CUSTOMER = 'cust-42';
const eur = (amount: number): Money => ({ amount, currency: 'EUR' });

const lines: OrderLine[] = [
  { productId: PRODUCT, quantity: 2, unitPrice: eur(1999) },
  { productId: OTHER_PRODUCT, quantity: 1, unitPrice: eur(450) },
];

export const sampleEvents: readonly (ProductEvent | OrderEvent)[] = [
  ...PRODUCT_COMMANDS.flatMap((m): readonly ProductEvent[] => m.samples.events),
  { type: 'OrderPlaced', orderId: ORDER, customerId: CUSTOMER, lines, total: eur(4448) },
  { type: 'OrderStockReserved', orderId: ORDER, customerId: CUSTOMER, productId: PRODUCT },
  {
    type: 'OrderStockRejected',
    orderId: ORDER,
    customerId: CUSTOMER,
    productId: OTHER_PRODUCT,
    reason: 'only 0 units available, 1 requested',
  },
  {
    type: 'OrderPaymentAuthorized',
    orderId: ORDER,
    customerId: CUSTOMER,
    paymentId: 'pay-7781',
    amount: eur(4448),
  },
  { type: 'OrderPaymentFailed', orderId: ORDER, customerId: CUSTOMER, reason: 'card declined' },
  {
    type: 'OrderConfirmed',
    orderId: ORDER,
    customerId: CUSTOMER,
    paymentId: 'pay-1',
    amount: { amount: 2598, currency: 'EUR' },
  },
  {
    type: 'OrderShipped',
    orderId: ORDER,
    customerId: CUSTOMER,
    trackingNumber: 'DHL-00340434161234567890',
  },
  { type: 'OrderShipped', orderId: ORDER, customerId: CUSTOMER, trackingNumber: null },
  { type: 'OrderDelivered', orderId: ORDER, customerId: CUSTOMER },
  {
    type: 'OrderCancelled',
    orderId: ORDER,
    customerId: CUSTOMER,
    reason: 'customer changed their mind',
  },
  { type: 'OrderReturned', orderId: ORDER, customerId: CUSTOMER, reason: 'arrived broken' },
];

export const sampleCommands: readonly (ProductCommand | OrderCommand)[] = [
  ...PRODUCT_COMMANDS.flatMap((m): readonly ProductCommand[] => m.samples.commands),
  { type: 'PlaceOrder', orderId: ORDER, customerId: CUSTOMER, lines },
  { type: 'RecordStockReserved', orderId: ORDER, productId: PRODUCT },
  {
    type: 'RecordStockRejected',
    orderId: ORDER,
    productId: OTHER_PRODUCT,
    reason: 'only 0 units available, 1 requested',
  },
  { type: 'RecordPaymentAuthorized', orderId: ORDER, paymentId: 'pay-7781', amount: eur(4448) },
  { type: 'RecordPaymentFailed', orderId: ORDER, reason: 'card declined' },
  { type: 'ConfirmOrder', orderId: ORDER },
  { type: 'ShipOrder', orderId: ORDER, trackingNumber: 'DHL-00340434161234567890' },
  { type: 'ShipOrder', orderId: ORDER },
  { type: 'DeliverOrder', orderId: ORDER },
  { type: 'CancelOrder', orderId: ORDER, reason: 'customer changed their mind' },
  { type: 'ReturnOrder', orderId: ORDER, reason: 'arrived broken' },
];

type SampleEvent = ProductEvent | OrderEvent;
type SampleCommand = ProductCommand | OrderCommand;

/** The (first) sample event of a type, typed as that event. */
export function sampleEvent<T extends SampleEvent['type']>(
  type: T,
): Extract<SampleEvent, { type: T }> {
  const found = sampleEvents.find((e): e is Extract<SampleEvent, { type: T }> => e.type === type);
  if (!found) throw new Error(`no sample ${type} event`);
  return found;
}

/** The (first) sample command of a type, typed as that command. */
export function sampleCommand<T extends SampleCommand['type']>(
  type: T,
): Extract<SampleCommand, { type: T }> {
  const found = sampleCommands.find(
    (c): c is Extract<SampleCommand, { type: T }> => c.type === type,
  );
  if (!found) throw new Error(`no sample ${type} command`);
  return found;
}
