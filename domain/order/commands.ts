import { type CommandOf, message, namesOf, nullable } from '../message';

export type { OrderLine } from '../message';

// Each order command declared once: its TypeScript type below and its Avro record
// (schemas/definitions.ts) come from it; `fingerprint` is the one it was released with.

/** 1..100 lines, one currency, a product at most once. */
const placeOrder = message(
  'PlaceOrder',
  { orderId: 'string', customerId: 'string', lines: 'orderLines' },
  { version: 1, fingerprint: '1f058abbfd80442e0575b8e4248d64be34c878e49701d7c1503ebfd1f2c92edc' },
);

const recordStockReserved = message(
  'RecordStockReserved',
  { orderId: 'string', productId: 'string' },
  { version: 1, fingerprint: '4bc51ac9310e8c9fc8ea33324120bb4eac9abf245dc75a9269f781f9e66fd713' },
);

const recordStockRejected = message(
  'RecordStockRejected',
  { orderId: 'string', productId: 'string', reason: 'string' },
  { version: 1, fingerprint: '9ab5097b471f637f87fd18fb4c3934d940e93e1c08de11f8f277dffbcfbd3576' },
);

const recordPaymentAuthorized = message(
  'RecordPaymentAuthorized',
  { orderId: 'string', paymentId: 'string', amount: 'money' },
  { version: 1, fingerprint: 'e87f3f72b64d677f853b48e600effce841fb5acba75205d20e2ca81a7b6a00d8' },
);

const recordPaymentFailed = message(
  'RecordPaymentFailed',
  { orderId: 'string', reason: 'string' },
  { version: 1, fingerprint: '43e00afc143d28e2f8d4c90306d8bace2fbcb305d2d18fea1cbb767e8f8c9701' },
);

const confirmOrder = message(
  'ConfirmOrder',
  { orderId: 'string' },
  { version: 1, fingerprint: '1581b8b5101b9bdea07ab5c6ab570fa32837b0927927d394303237e4dcc4ad3f' },
);

/** Absent trackingNumber may be undefined (JSON) or null (Avro). */
const shipOrder = message(
  'ShipOrder',
  { orderId: 'string', trackingNumber: nullable('string') },
  { version: 1, fingerprint: '72bb503856d1f97979f81bc6d136acca0cc4730264d62e17e925857e54042209' },
);

const deliverOrder = message(
  'DeliverOrder',
  { orderId: 'string' },
  { version: 1, fingerprint: '16d500fbefa21a8bb51fed34d0e084d19efbb51bd09e4ef03a7fcd12df489f10' },
);

/** customerId is set when a customer asks: the order must be theirs (another's is "not found"). */
const cancelOrder = message(
  'CancelOrder',
  { orderId: 'string', reason: 'string', customerId: nullable('string') },
  { version: 1, fingerprint: '524416a367da9f09dae7c5678c75dd5f905fbd06d2a87879eb6fcf280eaf6026' },
);

/** customerId as for CancelOrder. */
const returnOrder = message(
  'ReturnOrder',
  { orderId: 'string', reason: 'string', customerId: nullable('string') },
  { version: 1, fingerprint: 'ab94ee6f191af0fc29631218f0ce4769f9c26539d724aba682865a658bacf83f' },
);

/** Every order command, in order: the union and ORDER_COMMAND_TYPES come from it. */
export const ORDER_COMMAND_SCHEMAS = [
  placeOrder,
  recordStockReserved,
  recordStockRejected,
  recordPaymentAuthorized,
  recordPaymentFailed,
  confirmOrder,
  shipOrder,
  deliverOrder,
  cancelOrder,
  returnOrder,
] as const;

export const ORDER_COMMAND_TYPES = namesOf(ORDER_COMMAND_SCHEMAS);

export type PlaceOrder = CommandOf<typeof placeOrder>;
export type RecordStockReserved = CommandOf<typeof recordStockReserved>;
export type RecordStockRejected = CommandOf<typeof recordStockRejected>;
export type RecordPaymentAuthorized = CommandOf<typeof recordPaymentAuthorized>;
export type RecordPaymentFailed = CommandOf<typeof recordPaymentFailed>;
export type ConfirmOrder = CommandOf<typeof confirmOrder>;
export type ShipOrder = CommandOf<typeof shipOrder>;
export type DeliverOrder = CommandOf<typeof deliverOrder>;
export type CancelOrder = CommandOf<typeof cancelOrder>;
export type ReturnOrder = CommandOf<typeof returnOrder>;

export type OrderCommand = CommandOf<(typeof ORDER_COMMAND_SCHEMAS)[number]>;
export type OrderCommandType = OrderCommand['type'];
