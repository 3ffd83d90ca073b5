import pino from 'pino';
import type {
  GroupConsumer,
  GroupHandlers,
  KafkaClient,
  Transaction,
  TransactionalProducer,
} from '../kafka/index';
import type { Logger } from '../logger';
import { OwnedPartitions } from './owned-partitions';
import type { PartitionWork } from './partition-work';

const partition = { topic: 'orders.events', partition: 0 };

describe('owned partitions stopping', () => {
  it('waits for the owners of partitions revoked just before, still finishing a transaction', async () => {
    let handlers: GroupHandlers | undefined;
    const consumer = {
      start: async (h: GroupHandlers) => {
        handlers = h;
      },
      close: async () => undefined,
      pause: () => undefined,
      resume: () => undefined,
    } as unknown as GroupConsumer;
    const closed: string[] = [];
    const tx: Transaction = { send: async () => [], sendOffsets: async () => undefined };
    const producer: TransactionalProducer = {
      transactionalId: 'saga-0',
      open: async () => undefined,
      close: async () => {
        closed.push('producer');
      },
      // A commit that takes a moment (a coordinator moving).
      transaction: async (work) => {
        await new Promise((r) => setTimeout(r, 300));
        return work(tx);
      },
    };
    const kafka = {
      groupConsumer: () => consumer,
      transactionalProducer: () => producer,
    } as unknown as KafkaClient;
    const work: PartitionWork<string> = {
      rebuild: async () => undefined,
      decide: async () => ({
        records: [{ topic: 'orders.commands', key: 'o', value: Buffer.from('x') }],
        committed: () => undefined,
        failed: () => undefined,
      }),
      poison: () => ({ records: [], committed: () => undefined, failed: () => undefined }),
      abandon: () => undefined,
    };
    const owned = new OwnedPartitions<string>({
      kafka,
      logger: pino({ level: 'silent' }) as unknown as Logger,
      name: 'test',
      groupId: 'g',
      topics: [partition.topic],
      sessionTimeoutMs: 6000,
      transactionalId: () => 'saga-0',
      work: () => work,
      maxBatch: 10,
    });
    await owned.start();
    await handlers?.onAssigned?.([partition]);
    await new Promise((r) => setTimeout(r, 50));
    owned.submit(partition, 'entry');
    await new Promise((r) => setTimeout(r, 50));
    // A rebalance gives the partition up without waiting for its owner to stop…
    void handlers?.onRevoked?.([partition]);

    await owned.stop();
    // …but stopping the process does wait: its producer is closed, not left behind.
    expect(closed).toEqual(['producer']);
  });
});
