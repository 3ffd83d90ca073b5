import {
  orderAggregateId,
  orderDecider,
  type ProductCommand,
  type ProductEvent,
  type ProductState,
  productAggregateId,
  productDecider,
  productStateJson,
  skuClaimedBy,
  skuHoldingChange,
  skuTaken,
} from '../domain';
import type { Decider, Message } from '../domain/decider';
import type { Config } from '../lib/config';
import { topicNames } from '../lib/topics';
import { getDefaultRegistry } from '../schemas/registry';
import type { AggregateKind, UniqueKeyRule } from './processor/aggregate-kind';

/**
 * A SKU names one live product (domain/product/sku.ts). A new product's id is chosen in its
 * SKU's partition (ids.ts newProductId), so that partition's owner sees every claim on the SKU.
 */
const uniqueSku: UniqueKeyRule<ProductCommand, ProductEvent, ProductState> = {
  name: 'sku',
  claimedBy: skuClaimedBy,
  change(event, before) {
    const holding = skuHoldingChange(event, before);
    return holding && { key: holding.sku, aggregateId: holding.productId, held: holding.held };
  },
  refusal: skuTaken,
};

/** Every current event schema: any change to one voids the partition owners' snapshots. */
function currentEventSchemas(): string[] {
  const registry = getDefaultRegistry();
  return registry.typeNames('event').map((type) => registry.current('event', type).fingerprint);
}

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
        snapshots: names.snapshots,
      },
      stateVersion: 1,
      stateJson: productStateJson,
      eventSchemaFingerprints: currentEventSchemas,
      uniqueKey: uniqueSku,
    },
    {
      name: 'order' as const,
      decider: orderDecider,
      aggregateId: orderAggregateId,
      topics: {
        commands: names.orderCommands,
        events: names.orderEvents,
        replies: names.orderReplies,
        snapshots: names.snapshots,
      },
      stateVersion: 1,
      eventSchemaFingerprints: currentEventSchemas,
    },
  ];
  // The processor handles any aggregate through the Decider contract; each decider only ever
  // sees commands from its own topic.
  return kinds as unknown as AggregateKind<Message, Message, unknown>[];
}

export type { Decider };
