import type { GroupConsumer, KafkaClient } from '../../lib/kafka';

/**
 * The real Kafka client, except that its first group consumer delivers nothing: it joins its
 * group and keeps its partitions, but no batch (nor position) ever reaches its handlers — a
 * client that stopped fetching without a word, as librdkafka did after a paused broker.
 * `consumers()` tells how many group consumers were made (a replacement makes a second).
 */
export function stallingFirstConsumer(real: KafkaClient): {
  kafka: KafkaClient;
  consumers: () => number;
} {
  let made = 0;
  const kafka: KafkaClient = Object.assign(Object.create(real) as KafkaClient, {
    groupConsumer: (options: Parameters<KafkaClient['groupConsumer']>[0]): GroupConsumer => {
      const consumer = real.groupConsumer(options);
      made += 1;
      if (made > 1) return consumer;
      return Object.assign(Object.create(consumer) as GroupConsumer, {
        start: (handlers: Parameters<GroupConsumer['start']>[0]) =>
          consumer.start({ ...handlers, onBatch: async () => undefined, onPosition: undefined }),
      });
    },
  });
  return { kafka, consumers: () => made };
}
