import type { Decider, Message } from '../../domain/decider';

/** What the command processor needs to know about one kind of aggregate. */
export interface AggregateKind<
  C extends Message = Message,
  E extends Message = Message,
  S = unknown,
> {
  name: 'product' | 'order';
  decider: Decider<C, E, S>;
  aggregateId: (message: C | E) => string;
  topics: { commands: string; events: string; replies: string };
}
