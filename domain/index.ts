/** The domain's public surface: contract, money, the Product and Order deciders, and the
 *  order-fulfilment saga. */
export * from './decider';
export * from './events';
export * from './fulfilment';
export * from './money';
export * from './order/commands';
export {
  aggregateId as orderAggregateId,
  MAX_ORDER_LINES,
  type OrderTotal,
  orderDecider,
  orderTotal,
} from './order/decider';
export * from './order/events';
export * from './order/progress';
export * from './order/state';
export {
  aggregateId as productAggregateId,
  evolveProduct,
  productDecider,
} from './product/decider';
export * from './product/messages';
export * from './product/sku';
export * from './product/state';
export { MAX_COUNT } from './validation';
