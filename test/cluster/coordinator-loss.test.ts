import { randomUUID } from 'node:crypto';
import { isAlive } from '../../infra/process-control';
import {
  createKafkaClient,
  type KafkaAdapterName,
  type KafkaClient,
  resolveAdapter,
} from '../../lib/kafka';
import { withTimeout } from '../../lib/timeout';
import { eventually, runCli, runConfig } from '../support/test-env';
import { groupCoordinator } from './cluster-nodes';

const adapters: KafkaAdapterName[] = ['kafkajs'];
if (resolveAdapter('auto') === 'confluent') adapters.push('confluent');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A transaction that commits a group's offsets while that group's coordinator broker dies and
 * leaves the cluster. librdkafka's coordinator lookup waits for a broker connection to go up or
 * down and never checks its own timeout (confluentinc/librdkafka#5456, #5511): with sparse
 * connections nothing changed once the dead broker was dropped from the metadata, so
 * `sendOffsetsToTransaction` never returned, nor did the owner's stop or the process's exit
 * (libuv waits for the thread blocked in it).
 */
describe.each(adapters)('a group coordinator lost under a transaction, on %s', (adapter) => {
  const base = runConfig();
  const config = { ...base, kafka: { ...base.kafka, client: adapter } };
  const kafka: KafkaClient = createKafkaClient(config);
  const closers: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  });

  /**
   * Kills the coordinator of a group whose offsets a transaction is committing, waits until
   * the cluster's metadata no longer lists it, then runs `meanwhile`; returns how the commit
   * was answered (or `no answer` after 120 s: the stays-away case is answered once an idle
   * connection is recycled, every 30 s, later on a loaded machine) and whether the producer
   * then closed.
   */
  async function commitWhileCoordinatorDies(
    name: string,
    meanwhile: () => Promise<void>,
  ): Promise<{ outcome: string; closed: string }> {
    const prefix = `${config.topics.prefix}.coordinator-loss.${adapter}.${name}`;
    const input = `${prefix}.in`;
    const output = `${prefix}.out`;
    const admin = kafka.admin();
    closers.push(() => admin.close());
    // Enough output partitions that the dying broker leads some: the producer then refreshes
    // its metadata until their new leaders are elected, and drops the broker from it.
    await admin.createTopics([
      { name: input, partitions: 1, config: {} },
      { name: output, partitions: 6, config: {} },
    ]);
    const producer = kafka.producer();
    closers.push(() => producer.close());
    await producer.send([{ topic: input, key: 'k', value: Buffer.from('v') }]);

    const groupId = `${prefix}.group.${randomUUID()}`;
    const consumer = kafka.groupConsumer({ groupId, topics: [input] });
    closers.push(() => consumer.close());
    const tx = kafka.transactionalProducer(`${prefix}.tx.${randomUUID()}`);
    await tx.open();
    let delivered = false;
    await consumer.start({
      onBatch: async () => {
        delivered = true;
      },
    });
    await eventually(
      async () => delivered,
      (d) => d,
      30_000,
    );
    const commit = (value: string) =>
      tx.transaction(async (t) => {
        await t.send(
          Array.from({ length: 6 }, (_, partition) => ({
            topic: output,
            partition,
            key: value,
            value: Buffer.from(value),
          })),
        );
        await t.sendOffsets(consumer, [{ topic: input, partition: 0, offset: 1n }]);
      });
    // The producer learns (and caches) who coordinates the group.
    await commit('before');

    const victim = await groupCoordinator(config, groupId);
    expect(victim).toBeDefined();
    const { id, pid } = victim ?? { id: 0, pid: 0 };
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(100);
    const answered: Promise<string> = commit('during').then(
      () => 'committed',
      (err: unknown) => `refused: ${err instanceof Error ? err.message : String(err)}`,
    );
    // The controller fences the dead broker and elects new leaders; metadata no longer lists it.
    await eventually(
      () => admin.brokers(),
      (ids) => !ids.includes(id),
      60_000,
    );
    await meanwhile();
    const outcome = await withTimeout(answered, 120_000, 'no answer').catch(
      (e: Error) => e.message,
    );
    // A call still in flight would block the close (see CallsInFlight).
    const closed = await withTimeout(tx.close(), 60_000, 'not closed').then(
      () => 'closed',
      (e: Error) => e.message,
    );
    return { outcome, closed };
  }

  async function restartKilledBroker(): Promise<void> {
    const up = await runCli(['infra', 'up']);
    expect(up.stdout).toMatch(/kafka: started 1 of 3 brokers/);
  }

  it('answers the offsets commit once the coordinator is back, and closes', async () => {
    const { outcome, closed } = await commitWhileCoordinatorDies('back', async () => {
      await sleep(5000);
      await restartKilledBroker();
    });
    expect(outcome).not.toBe('no answer');
    expect(closed).toBe('closed');
  });

  it('answers the offsets commit when the coordinator stays away, and closes', async () => {
    let result: { outcome: string; closed: string } | undefined;
    try {
      result = await commitWhileCoordinatorDies('gone', async () => undefined);
    } finally {
      // For the tests after this one, whatever happened here.
      await runCli(['infra', 'up']);
    }
    expect(result?.outcome).not.toBe('no answer');
    expect(result?.closed).toBe('closed');
  });
});
