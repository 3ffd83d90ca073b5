export * from './commands';
export { aggregateId, productDecider } from './decider';
export * from './events';
export * from './sku';
export * from './state';
