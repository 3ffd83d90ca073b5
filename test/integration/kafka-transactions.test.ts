import type { Admin, Consumer, KafkaMessage, Producer } from 'kafkajs';
import { createKafka, logEndOffsets } from '../../lib/kafka';
import { runConfig } from '../support/test-env';

/**
 * The consume → transform → produce loop every command processor and saga relies on: output
 * messages and the consumed offsets commit in one Kafka transaction, and a read_committed
 * reader never sees an aborted transaction's messages.
 */
describe('Kafka transactions on the real broker', () => {
  const config = runConfig();
  const kafka = createKafka(config);
  const base = `${config.topics.prefix}.it.tx`;
  const input = `${base}.in`;
  const output = `${base}.out`;
  const groupId = `${base}.group`;
  let admin: Admin;
  let producer: Producer;
  let transactional: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        { topic: input, numPartitions: 1 },
        { topic: output, numPartitions: 1 },
      ],
    });
    for (const topic of [input, output]) await logEndOffsets(admin, topic, 60);
    producer = kafka.producer();
    transactional = kafka.producer({
      transactionalId: `${base}.producer`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await Promise.all([producer.connect(), transactional.connect()]);
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await Promise.all([producer.disconnect(), transactional.disconnect(), admin.disconnect()]);
  });

  async function readAll(
    topic: string,
    readUncommitted: boolean,
    expected: number,
  ): Promise<string[]> {
    const consumer = kafka.consumer({
      groupId: `${base}.reader.${readUncommitted ? 'uncommitted' : 'committed'}`,
      readUncommitted,
    });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`saw only ${JSON.stringify(seen)}`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(String(message.value));
            if (seen.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.stop();
    return seen;
  }

  it('commits outputs with the consumed offsets, and hides aborted messages from read_committed readers', async () => {
    await producer.send({
      topic: input,
      messages: ['apple', 'banana', 'cherry'].map((value) => ({ key: value, value })),
    });

    // Consume → produce in a transaction that also commits the consumed offset.
    const consumer = kafka.consumer({ groupId });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: input, fromBeginning: true });
    let handled = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({
            topic,
            partition,
            message,
          }: {
            topic: string;
            partition: number;
            message: KafkaMessage;
          }) => {
            const tx = await transactional.transaction();
            try {
              await tx.send({
                topic: output,
                messages: [{ key: message.key, value: String(message.value).toUpperCase() }],
              });
              await tx.sendOffsets({
                consumerGroupId: groupId,
                topics: [
                  {
                    topic,
                    partitions: [{ partition, offset: String(Number(message.offset) + 1) }],
                  },
                ],
              });
              await tx.commit();
            } catch (err) {
              await tx.abort();
              throw err;
            }
            handled += 1;
            if (handled === 3) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.stop();

    // An aborted transaction in between, then one more committed message.
    const aborted = await transactional.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'ABORTED' }] });
    await aborted.abort();
    const last = await transactional.transaction();
    await last.send({ topic: output, messages: [{ value: 'AFTER-ABORT' }] });
    await last.commit();

    expect(await readAll(output, false, 4)).toEqual(['APPLE', 'BANANA', 'CHERRY', 'AFTER-ABORT']);
    // The aborted message really is in the log: only isolation hides it.
    expect(await readAll(output, true, 5)).toContain('ABORTED');

    const [committed] = await admin.fetchOffsets({ groupId, topics: [input] });
    expect(committed?.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '3' })]);
  });
});
