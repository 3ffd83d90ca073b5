import { type EventOf, message, namesOf, nullable, nullableOrAbsent } from '../message';

// Each order event declared once, as the commands (commands.ts). Events are plain JSON-able
// data (Avro-serialised): no undefined, Dates or Maps.

/** total: the sum of quantity × unitPrice.amount, in the lines' currency. */
const orderPlaced = message(
  'OrderPlaced',
  { orderId: 'string', customerId: 'string', lines: 'orderLines', total: 'money' },
  { version: 1, fingerprint: '28e5f785cf85795c23f83d33c86f1cfeafb2fdf3d2db1791db449ce22ca783cb' },
);

const orderStockReserved = message(
  'OrderStockReserved',
  { orderId: 'string', customerId: 'string', productId: 'string' },
  { version: 1, fingerprint: '2f531c8760f742f34cfed84115d7306b050483a4b131349e09555329551bfc57' },
);

const orderStockRejected = message(
  'OrderStockRejected',
  { orderId: 'string', customerId: 'string', productId: 'string', reason: 'string' },
  { version: 1, fingerprint: '90cac04d9523439ad6f66434395a3f6fe03f90e91341d00370836dd4e54fcb16' },
);

const orderPaymentAuthorized = message(
  'OrderPaymentAuthorized',
  { orderId: 'string', customerId: 'string', paymentId: 'string', amount: 'money' },
  { version: 1, fingerprint: '17f8c6b310fa3706a0a15ef68cee7f7854a14cf97e942a1ca422cfad455e71ae' },
);

const orderPaymentFailed = message(
  'OrderPaymentFailed',
  { orderId: 'string', customerId: 'string', reason: 'string' },
  { version: 1, fingerprint: '843df8eb695eb2c15ff9980c21772ca75fd15855881d11c5d9d4ada81667c401' },
);

/** Stock reserved and payment authorized. The payment is given when it confirmed the order
 *  (null on orders confirmed by a ConfirmOrder after an OrderPaymentAuthorized; absent in code
 *  written before v2). v1 (without them) stays in schemas/avro/events/. */
const orderConfirmed = message(
  'OrderConfirmed',
  {
    orderId: 'string',
    customerId: 'string',
    paymentId: nullableOrAbsent('string'),
    amount: nullableOrAbsent('money'),
  },
  {
    version: 2,
    fingerprint: 'ae48b663feecc074d8002f7162fa115473bccc525b01db96ecebf8e8edc726ac',
    doc: 'The order is confirmed: its stock is reserved and its payment authorized. v2 carries the payment when it is what confirmed the order.',
  },
);

const orderShipped = message(
  'OrderShipped',
  { orderId: 'string', customerId: 'string', trackingNumber: nullable('string') },
  { version: 1, fingerprint: '40a785629941cf112c59aab964ac119343315819d33b561138bdd1cb222c05c1' },
);

const orderDelivered = message(
  'OrderDelivered',
  { orderId: 'string', customerId: 'string' },
  { version: 1, fingerprint: 'eb4da8dd599d19520a083097303b663abec514cfc6958dc69d4b59b9fe70d9e4' },
);

const orderCancelled = message(
  'OrderCancelled',
  { orderId: 'string', customerId: 'string', reason: 'string' },
  { version: 1, fingerprint: 'e9eb65fc2ff40d9728751006f484e5841647d685adc30f70dabcd9d79ad01f5d' },
);

const orderReturned = message(
  'OrderReturned',
  { orderId: 'string', customerId: 'string', reason: 'string' },
  { version: 1, fingerprint: '38b7aee4b3a44acf23fb2a050ea30436601a793ac28549ff6d8486b01c6939a5' },
);

/** Every order event, in order: the union and ORDER_EVENT_TYPES come from it. */
export const ORDER_EVENT_SCHEMAS = [
  orderPlaced,
  orderStockReserved,
  orderStockRejected,
  orderPaymentAuthorized,
  orderPaymentFailed,
  orderConfirmed,
  orderShipped,
  orderDelivered,
  orderCancelled,
  orderReturned,
] as const;

export const ORDER_EVENT_TYPES = namesOf(ORDER_EVENT_SCHEMAS);

export type OrderPlaced = EventOf<typeof orderPlaced>;
export type OrderStockReserved = EventOf<typeof orderStockReserved>;
export type OrderStockRejected = EventOf<typeof orderStockRejected>;
export type OrderPaymentAuthorized = EventOf<typeof orderPaymentAuthorized>;
export type OrderPaymentFailed = EventOf<typeof orderPaymentFailed>;
export type OrderConfirmed = EventOf<typeof orderConfirmed>;
export type OrderShipped = EventOf<typeof orderShipped>;
export type OrderDelivered = EventOf<typeof orderDelivered>;
export type OrderCancelled = EventOf<typeof orderCancelled>;
export type OrderReturned = EventOf<typeof orderReturned>;

export type OrderEvent = EventOf<(typeof ORDER_EVENT_SCHEMAS)[number]>;
export type OrderEventType = OrderEvent['type'];
