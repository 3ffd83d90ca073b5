import { randomUUID } from 'node:crypto';
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
import { eventually } from '../support/test-env';

/**
 * Partition owners commit their group's offsets past the transaction markers that follow what
 * they consumed: once every record is handled, the group shows no lag (`orderstream status`
 * showed a record or two per partition for ever, and a lag that never falls looks stuck).
 */
describe('partition owners’ committed offsets', () => {
  let config: Config;
  let processor: CommandProcessor | undefined;
  afterAll(() => processor?.stop());

  beforeAll(async () => {
    config = await isolatedConfig('owner-offsets');
  });

  it('pass the commit markers: an idle group has no lag', async () => {
    const topics = topicNames(config.topics);
    const kafka = createKafkaClient(config);
    const started = await startTestProcessor(config, 'offsets', { kafka });
    processor = started.processor;

    // Each command in a transaction of its own, as a command API instance forwards them: a
    // commit marker follows each one.
    const tx = kafka.transactionalProducer(
      `${config.topics.prefix}.offsets-sender.${randomUUID()}`,
    );
    await tx.open();
    const ids = Array.from({ length: 12 }, (_, i) => `offsets-${i}`);
    try {
      for (const id of ids) await tx.transaction((t) => t.send([createProductRecord(config, id)]));
    } finally {
      await tx.close();
    }
    const answered = await eventually(
      async () => (await readProductReplies(config)).map((reply) => reply.commandId),
      (found) => ids.every((id) => found.includes(`cmd-${id}`)),
      30_000,
    );
    expect(ids.every((id) => answered.includes(`cmd-${id}`))).toBe(true);

    const admin = kafka.admin();
    try {
      const lag = async () =>
        totalLag(await kafkaGroupLag(started.groupId, [topics.productCommands]).lag(admin));
      expect(await eventually(lag, (behind) => behind === 0n, 15_000)).toBe(0n);
    } finally {
      await admin.close();
    }
  }, 90_000);
});
