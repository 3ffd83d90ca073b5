import type { AggregateKind } from '../../command-api/processor/aggregate-kind';
import { CommandProcessor } from '../../command-api/processor/command-processor';
import { type CommandReply, decodeReply } from '../../command-api/processor/reply';
import {
  type CreateProduct,
  type Decider,
  type Message,
  type ProductCommand,
  type ProductEvent,
  type ProductState,
  productAggregateId,
  productDecider,
} from '../../domain';
import type { Config } from '../../lib/config';
import { createKafkaClient, partitionOf, readToEnd } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { encodeCommand } from '../../schemas/codec';
import { isolatedConfig, readEvents } from '../support/command-api';
import { eventually, silentLogger } from '../support/test-env';

/**
 * A partition owner isolates each command: one whose decider throws, whose event its schema
 * refuses, or whose event the broker refuses (too large) is rejected alone, and the commands
 * around it in the same batch are decided and appended. The faults are planted by a decider
 * that wraps the real product decider; the broker, topics and processor are the real ones.
 */
describe('a partition owner isolates a faulty command', () => {
  let config: Config;
  let topics: ReturnType<typeof topicNames>;
  let processor: CommandProcessor;

  /** The product decider, with faults on cue (by product name). */
  const faulty: Decider<ProductCommand, ProductEvent, ProductState> = {
    ...productDecider,
    decide(command, state) {
      if (command.type !== 'CreateProduct') return productDecider.decide(command, state);
      const created = { ...command, type: 'ProductCreated' as const };
      switch (command.name) {
        case 'THROW':
          throw new Error('a bug in a decider');
        case 'UNENCODABLE':
          // Past the domain's bound and past what Avro `long` takes in avsc.
          return {
            ok: true,
            events: [{ ...created, price: { amount: 2 ** 53, currency: 'EUR' } }],
          };
        case 'HUGE':
          // Over the broker's message.max.bytes (1 MiB by default).
          return { ok: true, events: [{ ...created, description: 'x'.repeat(2 * 1024 * 1024) }] };
        default:
          return productDecider.decide(command, state);
      }
    },
  };

  beforeAll(async () => {
    config = await isolatedConfig('isolation', { COMMAND_TIMEOUT_MS: '15000' });
    topics = topicNames(config.topics);
    const kind = {
      name: 'product',
      decider: faulty,
      aggregateId: productAggregateId,
      topics: {
        commands: topics.productCommands,
        events: topics.productEvents,
        replies: topics.productReplies,
        snapshots: topics.snapshots,
      },
      stateVersion: 1,
      eventSchemaFingerprints: () => [],
    } satisfies AggregateKind<ProductCommand, ProductEvent, ProductState>;
    processor = new CommandProcessor({
      kafka: createKafkaClient(config),
      logger: silentLogger(),
      kinds: [kind as unknown as AggregateKind<Message, Message, unknown>],
      groupId: `${config.topics.prefix}.isolation-processor`,
      transactionalIdPrefix: `${config.topics.prefix}.isolation-owner`,
      partitions: config.topics.partitions,
      sessionTimeoutMs: 6000,
      maxCommandsPerTransaction: 200,
      maxRememberedCommands: 1000,
      snapshotEveryEvents: 0,
    });
    await processor.start();
  });
  afterAll(() => processor?.stop());

  /** Product ids of partition 0 (the owner refuses an id of another partition). */
  const idsInPartitionZero = (count: number): string[] => {
    const ids: string[] = [];
    for (let i = 0; ids.length < count; i += 1) {
      const id = `iso-${i}`;
      if (partitionOf(id, config.topics.partitions) === 0) ids.push(id);
    }
    return ids;
  };

  const readReplies = async (): Promise<CommandReply[]> => {
    const replies: CommandReply[] = [];
    await readToEnd(
      createKafkaClient(config),
      [{ topic: topics.productReplies, partition: 0 }],
      ({ records }) => {
        for (const record of records) replies.push(decodeReply(record.value));
      },
    );
    return replies;
  };

  it('rejects the faulty commands alone; those before and after them in the batch are appended', async () => {
    const names = ['GOOD-1', 'THROW', 'GOOD-2', 'UNENCODABLE', 'HUGE', 'GOOD-3'];
    const ids = idsInPartitionZero(names.length);
    const producer = createKafkaClient(config).producer();
    await producer.send(
      names.map((name, i) => {
        const productId = ids[i] as string;
        const command: CreateProduct = {
          type: 'CreateProduct',
          productId,
          sku: `SKU-${name}`,
          name,
          description: '',
          category: 'c',
          price: { amount: 100, currency: 'EUR' },
          initialStock: 1,
        };
        const { value, headers } = encodeCommand(command, {
          commandId: `cmd-${name}`,
          correlationId: name,
          actor: 'admin:test',
          issuedAt: new Date().toISOString(),
          requestHash: name,
          // Awaited elsewhere: every outcome, accepted or not, gets a reply record.
          replyRequired: true,
        });
        return { topic: topics.productCommands, key: productId, partition: 0, value, headers };
      }),
    );
    await producer.close();

    const replies = await eventually(readReplies, (r) => r.length >= names.length, 60_000);
    const outcomes = Object.fromEntries(
      replies.map((r) => [
        r.commandId,
        r.outcome.status === 'accepted' ? 'accepted' : r.outcome.rejection.code,
      ]),
    );
    expect(outcomes).toEqual({
      'cmd-GOOD-1': 'accepted',
      'cmd-THROW': 'command_failed',
      'cmd-GOOD-2': 'accepted',
      'cmd-UNENCODABLE': 'command_failed',
      'cmd-HUGE': 'append_failed',
      'cmd-GOOD-3': 'accepted',
    });
    const created = (await readEvents(config, topics.productEvents)).map((e) => e.aggregateId);
    expect(created.sort()).toEqual([ids[0], ids[2], ids[5]].sort());
  });
});
