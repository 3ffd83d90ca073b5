import pino from 'pino';
import {
  type ConsumedRecord,
  type GroupConsumer,
  type KafkaClient,
  KafkaGroupMembershipError,
  type Transaction,
  type TransactionalProducer,
} from '../kafka/index';
import type { Logger } from '../logger';
import { PartitionLoop } from './partition-loop';
import type { Decided, Entry, PartitionWork } from './partition-work';

const partition = { topic: 'orders.events', partition: 0, transactionalId: 'saga-0' };
const record: ConsumedRecord = {
  ...partition,
  offset: 7n,
  key: null,
  value: Buffer.from('OrderPlaced'),
  headers: {},
  timestamp: 0,
};

/** A producer whose transactions fail with `failure()` while it returns an error. */
function producerFailingWith(failure: () => Error | undefined): TransactionalProducer {
  const tx: Transaction = { send: async () => [], sendOffsets: async () => undefined };
  return {
    transactionalId: partition.transactionalId,
    open: async () => undefined,
    close: async () => undefined,
    transaction: async (work) => {
      const error = failure();
      if (error) throw error;
      return work(tx);
    },
  };
}

/** Work that appends one record per entry and tells what became of each. */
function recordingWork() {
  const seen = { committed: 0, poisoned: 0, rebuilt: 0 };
  const decided = (): Decided<never> => ({
    records: [{ topic: 'orders.commands', key: 'o', value: Buffer.from('ReserveStock') }],
    committed: () => {
      seen.committed += 1;
    },
    failed: () => undefined,
  });
  const work: PartitionWork<never> = {
    rebuild: async () => {
      seen.rebuilt += 1;
    },
    decide: async () => decided(),
    poison: () => {
      seen.poisoned += 1;
      return { records: [], committed: () => undefined, failed: () => undefined };
    },
    abandon: () => undefined,
  };
  return { seen, work };
}

/** A ready loop over `producer` (only what the loop uses of the port), one record pushed. */
async function loopWithOneRecord(
  producer: TransactionalProducer,
  work: PartitionWork<never>,
): Promise<PartitionLoop<never>> {
  const kafka = { transactionalProducer: () => producer } as unknown as KafkaClient;
  const consumer = { pause: () => undefined, resume: () => undefined } as unknown as GroupConsumer;
  const loop = new PartitionLoop(partition, work, {
    kafka,
    consumer,
    logger: pino({ level: 'silent' }) as unknown as Logger,
    maxBatch: 10,
    maxQueued: 100,
  });
  await loop.whenReady();
  loop.push([{ record } as Entry<never>]);
  return loop;
}

describe('an owned partition whose transactions are refused for its consumer’s group membership', () => {
  it('keeps the entry and commits it once the consumer has rejoined, never setting it aside', async () => {
    let refusals = 4;
    const producer = producerFailingWith(() =>
      refusals-- > 0
        ? new KafkaGroupMembershipError('not a member of the current generation')
        : undefined,
    );
    const { seen, work } = recordingWork();
    const loop = await loopWithOneRecord(producer, work);

    const deadline = Date.now() + 15_000;
    while (seen.committed === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await loop.stop();
    // Four refusals in a row set a failing entry aside; these are the group's, not the entry's.
    expect(seen).toEqual({ committed: 1, poisoned: 0, rebuilt: 5 });
  }, 20_000);
});

describe('an owned partition stopped while its transaction hangs (a lost broker)', () => {
  it('closes its producer after the wait rather than waiting for the transaction', async () => {
    let closed = false;
    const producer: TransactionalProducer = {
      transactionalId: partition.transactionalId,
      open: async () => undefined,
      close: async () => {
        closed = true;
      },
      // Never settles, as a commit waiting on a coordinator that died may not for minutes.
      transaction: () => new Promise(() => undefined),
    };
    const loop = await loopWithOneRecord(producer, recordingWork().work);
    await new Promise((r) => setTimeout(r, 50));

    await loop.stop(200);
    expect(closed).toBe(true);
    expect(loop.active).toBe(false);
  });
});
