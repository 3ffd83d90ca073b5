import type { IHeaders } from 'kafkajs';
import type { Decider, Message } from '../../domain/decider';
import type { CommandReply } from './reply';

/** A command an owner sends to another aggregate in the same transaction as its own events. */
export interface FollowUpCommand {
  topic: string;
  aggregateId: string;
  commandId: string;
  command: Message;
}

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
  /**
   * Commands to send once a command is decided (the first time; never for a repeat), e.g. a
   * stock reservation's outcome to the order that asked for it.
   */
  followUps?: (command: C, reply: CommandReply, headers: IHeaders | undefined) => FollowUpCommand[];
}
