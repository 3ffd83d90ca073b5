export * from './commands';
export { aggregateId, MAX_ORDER_LINES, orderDecider } from './decider';
export * from './events';
export * from './progress';
export * from './state';
