import { aggregateKinds } from '../../command-api/aggregates';
import { CommandProcessor } from '../../command-api/processor/command-processor';
import { type CommandReply, decodeReply } from '../../command-api/processor/reply';
import type { CreateProduct } from '../../domain';
import type { Config } from '../../lib/config';
import { createKafkaClient, partitionOf, readToEnd } from '../../lib/kafka';
import { kafkaGroupLag } from '../../lib/metrics/consumer-lag';
import { topicNames } from '../../lib/topics';
import { encodeCommand } from '../../schemas/codec';
import { isolatedConfig } from '../support/command-api';
import { stallingFirstConsumer } from '../support/stalling-kafka';
import { eventually, warningsLogger } from '../support/test-env';

/**
 * Partition owners whose group consumer stops delivering without a word (up, in its group,
 * fetching nothing) are noticed by the group's lag — behind, and not one committed offset
 * moving for CONSUMER_STALL_MS — and the consumer is replaced; the waiting commands are then
 * decided. The same runtime runs the saga's owners.
 */
async function readReplies(config: Config): Promise<CommandReply[]> {
  const topic = topicNames(config.topics).productReplies;
  const replies: CommandReply[] = [];
  await readToEnd(
    createKafkaClient(config),
    Array.from({ length: config.topics.partitions }, (_, partition) => ({ topic, partition })),
    ({ records }) => {
      for (const record of records) replies.push(decodeReply(record.value));
    },
  );
  return replies;
}

describe('a stalled partition-owner consumer', () => {
  let config: Config;
  let processor: CommandProcessor | undefined;
  afterAll(() => processor?.stop());

  beforeAll(async () => {
    config = await isolatedConfig('owner-stall');
  });

  it('is replaced, and the commands waiting for it are decided', async () => {
    const topics = topicNames(config.topics);
    const groupId = `${config.topics.prefix}.stall-processor`;
    const real = createKafkaClient(config);
    const { kafka, consumers } = stallingFirstConsumer(real);
    const { logger: watched, warnings } = warningsLogger();
    processor = new CommandProcessor({
      kafka,
      logger: watched,
      kinds: aggregateKinds(config),
      groupId,
      transactionalIdPrefix: `${config.topics.prefix}.stall-owner`,
      partitions: config.topics.partitions,
      sessionTimeoutMs: 6000,
      maxCommandsPerTransaction: 200,
      maxRememberedCommands: 1000,
      snapshotEveryEvents: 0,
      stallMs: 3000,
    });
    await processor.start();

    // Commands forwarded by another instance reach this one's owners through the topic: one
    // every 300 ms (a stall shows as records arriving that no position follows) until the
    // consumer is replaced.
    const ids: string[] = [];
    const producer = real.producer();
    const send = async (productId: string) => {
      const command: CreateProduct = {
        type: 'CreateProduct',
        productId,
        sku: `SKU-${productId}`,
        name: productId,
        description: '',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 1,
      };
      const { value, headers } = encodeCommand(command, {
        commandId: `cmd-${productId}`,
        correlationId: productId,
        actor: 'admin:test',
        issuedAt: new Date().toISOString(),
        requestHash: productId,
        replyRequired: true,
      });
      await producer.send([
        {
          topic: topics.productCommands,
          key: productId,
          partition: partitionOf(productId, config.topics.partitions),
          value,
          headers,
        },
      ]);
      ids.push(productId);
    };
    const deadline = Date.now() + 30_000;
    while (consumers() < 2 && Date.now() < deadline) {
      await send(`stall-${ids.length}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await send(`stall-${ids.length}`);
    await producer.close();
    expect(ids.length).toBeGreaterThan(3);

    // Every command gets a reply, accepted or refused: each one was decided.
    const answered = await eventually(
      async () => (await readReplies(config)).map((reply) => reply.commandId),
      (found) => ids.every((id) => found.includes(`cmd-${id}`)),
      60_000,
    );
    expect([...new Set(answered)].sort()).toEqual(ids.map((id) => `cmd-${id}`).sort());
    expect(warnings).toContain('command consumer stalled; replacing it');
    expect(consumers()).toBe(2);
    const admin = real.admin();
    try {
      const rows = await kafkaGroupLag(groupId, [topics.productCommands]).lag(admin);
      expect(rows.reduce((sum, r) => sum + r.lag, 0n)).toBe(0n);
    } finally {
      await admin.close();
    }
  }, 120_000);
});
