export { aggregateId, evolveProduct, productDecider } from './decider';
export * from './messages';
export * from './sku';
export * from './state';
