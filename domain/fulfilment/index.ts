/** The order-fulfilment saga's pure state machine and its actions (DESIGN §6). */
export * from './actions';
export * from './saga';
