/** The domain's public surface: contract, money, the Product and Order deciders, and the
 *  order-fulfilment saga. */
export * from './decider';
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
export * from './order/state';
export * from './product/commands';
export { aggregateId as productAggregateId, productDecider } from './product/decider';
export * from './product/events';
export * from './product/sku';
export * from './product/state';
export { MAX_COUNT } from './validation';
