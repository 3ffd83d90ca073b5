/** The domain's public surface: contract, money, and the Product and Order deciders. */
export * from './decider';
export * from './money';
export * from './order/commands';
export { aggregateId as orderAggregateId, MAX_ORDER_LINES, orderDecider } from './order/decider';
export * from './order/events';
export * from './order/state';
export * from './product/commands';
export { aggregateId as productAggregateId, productDecider } from './product/decider';
export * from './product/events';
export * from './product/state';
export { MAX_COUNT } from './validation';
