/** The order-fulfilment saga's pure state machine, its actions and the translation of the
 *  product side's answers into order commands (DESIGN §6). */
export * from './actions';
export * from './reservations';
export * from './saga';
export * from './workflow';
