import { orderAggregateId, orderDecider, productAggregateId, productDecider } from '../domain';
import type { Decider, Message } from '../domain/decider';
import type { Config } from '../lib/config';
import { topicNames } from '../lib/topics';
import type { AggregateKind } from './processor/aggregate-kind';

/** The aggregates this command API owns, with their topics. */
export function aggregateKinds(config: Config): AggregateKind<Message, Message, unknown>[] {
  const names = topicNames(config.topics);
  const kinds = [
    {
      name: 'product' as const,
      decider: productDecider,
      aggregateId: productAggregateId,
      topics: {
        commands: names.productCommands,
        events: names.productEvents,
        replies: names.productReplies,
      },
    },
    {
      name: 'order' as const,
      decider: orderDecider,
      aggregateId: orderAggregateId,
      topics: {
        commands: names.orderCommands,
        events: names.orderEvents,
        replies: names.orderReplies,
      },
    },
  ];
  // The processor handles any aggregate through the Decider contract; each decider only ever
  // sees commands from its own topic.
  return kinds as unknown as AggregateKind<Message, Message, unknown>[];
}

export type { Decider };
