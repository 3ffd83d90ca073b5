import type { CommandProcessor } from '../../command-api/processor/command-processor';
import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';
import { kafkaGroupLag, totalLag } from '../../lib/metrics/consumer-lag';
import { topicNames } from '../../lib/topics';
import {
  createProductRecord,
  isolatedConfig,
  readProductReplies,
  startTestProcessor,
} from '../support/command-api';
import { stallingFirstConsumer } from '../support/stalling-kafka';
import { eventually, warningsLogger } from '../support/test-env';

/**
 * Partition owners whose group consumer stops delivering without a word (up, in its group,
 * fetching nothing) are noticed by the group's lag — behind, and not one committed offset
 * moving for CONSUMER_STALL_MS — and the consumer is replaced; the waiting commands are then
 * decided. The same runtime runs the saga's owners.
 */
describe('a stalled partition-owner consumer', () => {
  let config: Config;
  let processor: CommandProcessor | undefined;
  afterAll(() => processor?.stop());

  beforeAll(async () => {
    config = await isolatedConfig('owner-stall');
  });

  it('is replaced, and the commands waiting for it are decided', async () => {
    const topics = topicNames(config.topics);
    const real = createKafkaClient(config);
    const { kafka, consumers } = stallingFirstConsumer(real);
    const { logger: watched, warnings } = warningsLogger();
    const started = await startTestProcessor(config, 'stall', {
      kafka,
      logger: watched,
      stallMs: 3000,
    });
    processor = started.processor;

    // Commands forwarded by another instance reach this one's owners through the topic: one
    // every 300 ms (a stall shows as records arriving that no position follows) until the
    // consumer is replaced.
    const ids: string[] = [];
    const producer = real.producer();
    const send = async (productId: string) => {
      await producer.send([createProductRecord(config, productId)]);
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
      async () => (await readProductReplies(config)).map((reply) => reply.commandId),
      (found) => ids.every((id) => found.includes(`cmd-${id}`)),
      60_000,
    );
    expect([...new Set(answered)].sort()).toEqual(ids.map((id) => `cmd-${id}`).sort());
    expect(warnings).toContain('command consumer stalled; replacing it');
    expect(consumers()).toBe(2);
    const admin = real.admin();
    try {
      expect(
        totalLag(await kafkaGroupLag(started.groupId, [topics.productCommands]).lag(admin)),
      ).toBe(0n);
    } finally {
      await admin.close();
    }
  }, 120_000);
});
