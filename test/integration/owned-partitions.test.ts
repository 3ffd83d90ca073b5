import {
  createKafkaClient,
  type KafkaAdapterName,
  type KafkaClient,
  readToEnd,
  resolveAdapter,
} from '../../lib/kafka';
import { OwnedPartitions } from '../../lib/owned-partitions/owned-partitions';
import { PartitionMovedError } from '../../lib/owned-partitions/partition-loop';
import type { Entry, PartitionWork } from '../../lib/owned-partitions/partition-work';
import { eventually, runConfig, silentLogger } from '../support/test-env';

/**
 * The owned-partition runtime with a toy owner that copies each input record and each local
 * request to an output topic: group commit, a poison entry set aside, revocation.
 */
const adapters: KafkaAdapterName[] = ['kafkajs'];
if (resolveAdapter('auto') === 'confluent') adapters.push('confluent');

interface Local {
  value: string;
  done: (error?: Error) => void;
}

describe.each(adapters)('owned partitions on %s', (adapter) => {
  const base = runConfig();
  const kafka: KafkaClient = createKafkaClient({ kafka: { ...base.kafka, client: adapter } });
  const prefix = `${base.topics.prefix}.owned.${adapter}`;
  const stops: (() => Promise<void>)[] = [];
  let n = 0;

  async function topics(): Promise<{ input: string; output: string }> {
    n += 1;
    const input = `${prefix}.in${n}`;
    const output = `${prefix}.out${n}`;
    const admin = kafka.admin();
    try {
      await admin.createTopics([
        { name: input, partitions: 1, config: {} },
        { name: output, partitions: 1, config: {} },
      ]);
    } finally {
      await admin.close();
    }
    return { input, output };
  }

  async function outputValues(output: string): Promise<string[]> {
    const values: string[] = [];
    await readToEnd(kafka, [{ topic: output, partition: 0 }], (b) => {
      for (const r of b.records) values.push(String(r.value));
    });
    return values;
  }

  /** Copies entries to `output`; a value `boom` makes decide throw (a bug) until set aside. */
  function copier(output: string, batches: number[]): PartitionWork<Local> {
    const entryValue = (e: Entry<Local>) =>
      'record' in e ? String(e.record.value) : e.local.value;
    return {
      rebuild: async () => undefined,
      decide: async (entries) => {
        batches.push(entries.length);
        if (entries.some((e) => entryValue(e) === 'boom')) throw new Error('cannot copy boom');
        return {
          records: entries.map((e) => ({
            topic: output,
            key: 'k',
            value: Buffer.from(entryValue(e)),
          })),
          committed: () => {
            for (const e of entries) if ('local' in e) e.local.done();
          },
          failed: (error) => {
            for (const e of entries) if ('local' in e) e.local.done(error);
          },
        };
      },
      poison: (entry) => ({
        records: [
          { topic: output, key: 'k', value: Buffer.from(`set-aside:${entryValue(entry)}`) },
        ],
        committed: () => undefined,
        failed: () => undefined,
      }),
      abandon: (local, error) => local.done(error),
    };
  }

  function runtime(input: string, output: string, batches: number[]): OwnedPartitions<Local> {
    const owned = new OwnedPartitions<Local>({
      kafka,
      logger: silentLogger(),
      name: 'copier',
      groupId: `${input}.group`,
      topics: [input],
      sessionTimeoutMs: 6000,
      transactionalId: (p) => `${input}.owner.${p.partition}`,
      work: () => copier(output, batches),
      maxBatch: 100,
    });
    stops.push(() => owned.stop());
    return owned;
  }

  const submit = (owned: OwnedPartitions<Local>, topic: string, value: string) =>
    new Promise<void>((resolve, reject) => {
      owned.submit({ topic, partition: 0 }, { value, done: (e) => (e ? reject(e) : resolve()) });
    });

  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
  });

  it('commits records and local requests once, many per transaction under load', async () => {
    const { input, output } = await topics();
    const producer = kafka.producer();
    stops.push(() => producer.close());
    await producer.send(
      Array.from({ length: 50 }, (_, i) => ({
        topic: input,
        key: 'k',
        value: Buffer.from(`r${i}`),
      })),
    );
    const batches: number[] = [];
    const owned = runtime(input, output, batches);
    await owned.start();
    await eventually(async () => owned.owns({ topic: input, partition: 0 }), Boolean, 30_000);
    await Promise.all(Array.from({ length: 200 }, (_, i) => submit(owned, input, `l${i}`)));
    const values = await eventually(
      () => outputValues(output),
      (v) => v.length >= 250,
      30_000,
    );
    expect(values.filter((v) => v.startsWith('r'))).toEqual(
      Array.from({ length: 50 }, (_, i) => `r${i}`),
    );
    expect(new Set(values.filter((v) => v.startsWith('l'))).size).toBe(200);
    expect(values).toHaveLength(250);
    // Group commit: far fewer transactions than entries.
    expect(batches.length).toBeLessThan(100);
    const admin = kafka.admin();
    try {
      const committed = await eventually(
        () => admin.groupOffsets(`${input}.group`, [input]),
        (rows) => rows[0]?.offset === 50n,
      );
      expect(committed).toEqual([{ topic: input, partition: 0, offset: 50n }]);
    } finally {
      await admin.close();
    }
  });

  it('needs no transaction for a batch that appends nothing; its offsets commit all the same', async () => {
    const { input, output } = await topics();
    const producer = kafka.producer();
    stops.push(() => producer.close());
    let transactions = 0;
    const counting: KafkaClient = {
      ...kafka,
      admin: () => kafka.admin(),
      producer: () => kafka.producer(),
      groupConsumer: (o) => kafka.groupConsumer(o),
      reader: () => kafka.reader(),
      transactionalProducer: (id) => {
        const real = kafka.transactionalProducer(id);
        return {
          transactionalId: id,
          open: () => real.open(),
          close: () => real.close(),
          transaction: (work) => {
            transactions += 1;
            return real.transaction(work);
          },
        };
      },
    };
    const quiet: PartitionWork<Local> = {
      ...copier(output, []),
      // Appends nothing for any record.
      decide: async () => ({ records: [], committed: () => undefined, failed: () => undefined }),
    };
    const owned = new OwnedPartitions<Local>({
      kafka: counting,
      logger: silentLogger(),
      name: 'quiet',
      groupId: `${input}.group`,
      topics: [input],
      sessionTimeoutMs: 6000,
      transactionalId: (p) => `${input}.owner.${p.partition}`,
      work: () => quiet,
      maxBatch: 5,
    });
    stops.push(() => owned.stop());
    await owned.start();
    await eventually(async () => owned.owns({ topic: input, partition: 0 }), Boolean, 30_000);
    for (let i = 0; i < 4; i += 1) {
      await producer.send(
        Array.from({ length: 10 }, (_, j) => ({
          topic: input,
          key: 'k',
          value: Buffer.from(`q${i}-${j}`),
        })),
      );
    }
    const admin = kafka.admin();
    try {
      const committed = await eventually(
        () => admin.groupOffsets(`${input}.group`, [input]),
        (rows) => rows[0]?.offset === 40n,
        30_000,
      );
      expect(committed).toEqual([{ topic: input, partition: 0, offset: 40n }]);
    } finally {
      await admin.close();
    }
    // At least 8 batches of at most 5 entries; their offsets needed far fewer transactions.
    expect(transactions).toBeLessThan(4);
    expect(await outputValues(output)).toEqual([]);
  });

  it('sets aside an entry that fails even alone, and goes on', async () => {
    const { input, output } = await topics();
    const producer = kafka.producer();
    stops.push(() => producer.close());
    await producer.send(
      ['a', 'b', 'boom', 'c'].map((v) => ({ topic: input, key: 'k', value: Buffer.from(v) })),
    );
    const owned = runtime(input, output, []);
    await owned.start();
    const values = await eventually(
      () => outputValues(output),
      (v) => v.includes('c'),
      60_000,
    );
    expect(values).toEqual(['a', 'b', 'set-aside:boom', 'c']);
  });

  it('hands a partition over: the successor goes on from the committed offset, nothing twice', async () => {
    const { input, output } = await topics();
    const producer = kafka.producer();
    stops.push(() => producer.close());
    const first = runtime(input, output, []);
    await first.start();
    await eventually(async () => first.owns({ topic: input, partition: 0 }), Boolean, 30_000);
    await producer.send([{ topic: input, key: 'k', value: Buffer.from('one') }]);
    await eventually(
      () => outputValues(output),
      (v) => v.length === 1,
      30_000,
    );
    await first.stop();
    await expect(submit(first, input, 'too late')).rejects.toBeInstanceOf(PartitionMovedError);
    const second = runtime(input, output, []);
    await second.start();
    await producer.send([{ topic: input, key: 'k', value: Buffer.from('two') }]);
    const values = await eventually(
      () => outputValues(output),
      (v) => v.length >= 2,
      30_000,
    );
    expect(values).toEqual(['one', 'two']);
  });
});
