import { aggregateKinds } from '../../command-api/aggregates';
import { CommandOwner, type LocalCommand } from '../../command-api/processor/command-owner';
import type { CommandReply } from '../../command-api/processor/reply';
import type { ProductCommand } from '../../domain';
import { createKafkaClient, type GroupConsumer, partitionOf } from '../../lib/kafka';
import { PartitionLoop } from '../../lib/owned-partitions/partition-loop';
import { isolatedConfig, readEvents } from '../support/command-api';
import { silentLogger } from '../support/test-env';

/**
 * A partition owner that lost its partition but does not know it yet (a zombie: paused by GC,
 * cut off, …) must not append anything once a new owner has started: the new owner's
 * transactional id is the same, so the broker fences the old producer.
 */
describe('a fenced zombie owner', () => {
  it('cannot commit once a new owner of its partition has started; the new owner goes on', async () => {
    const config = await isolatedConfig('zombie');
    const kind = aggregateKinds(config).find((k) => k.name === 'product');
    if (!kind) throw new Error('no product aggregate');
    const kafka = createKafkaClient(config);
    const productId = 'zombie-product';
    const partition = partitionOf(productId, config.topics.partitions);
    // Only local commands go through these owners: no consumed offsets, so no consumer is used.
    const noConsumer = {} as GroupConsumer;
    const owner = () =>
      new PartitionLoop(
        {
          topic: kind.topics.commands,
          partition,
          transactionalId: `${config.topics.prefix}.owner.product.${partition}`,
        },
        new CommandOwner({
          kafka,
          logger: silentLogger(),
          kind,
          partition,
          partitions: config.topics.partitions,
          maxRememberedCommands: 1000,
          snapshotEveryEvents: 0,
        }),
        { kafka, consumer: noConsumer, logger: silentLogger(), maxBatch: 50, maxQueued: 100 },
      );
    const send = (loop: PartitionLoop<LocalCommand>, command: ProductCommand, commandId: string) =>
      new Promise<CommandReply>((resolve, reject) =>
        loop.push([
          {
            local: {
              command,
              context: {
                commandId,
                correlationId: commandId,
                actor: 'admin:test',
                requestHash: commandId,
              },
              answer: resolve,
              fail: reject,
              waiting: () => true,
              take: () => true,
            },
          },
        ]),
      );

    const old = owner();
    await old.whenReady();
    const created = await send(
      old,
      {
        type: 'CreateProduct',
        productId,
        sku: productId, // a SKU in the product's partition, as the command API picks ids
        name: 'Z',
        description: '',
        category: 'c',
        price: { amount: 1, currency: 'EUR' },
        initialStock: 1,
      },
      'create',
    );
    expect(created.outcome.status).toBe('accepted');

    const successor = owner();
    await successor.whenReady();
    await expect(
      send(old, { type: 'RestockProduct', productId, quantity: 7 }, 'from-zombie'),
    ).rejects.toThrow(/fenced|moved/);
    const restocked = await send(
      successor,
      { type: 'RestockProduct', productId, quantity: 3 },
      'from-successor',
    );
    expect(restocked.outcome.status).toBe('accepted');
    await Promise.all([old.stop(), successor.stop()]);

    const events = (await readEvents(config, kind.topics.events)).filter(
      (e) => e.aggregateId === productId,
    );
    expect(events.map((e) => [e.type, e.commandId])).toEqual([
      ['ProductCreated', 'create'],
      ['ProductRestocked', 'from-successor'],
    ]);
    // The successor rebuilt the product from the log: 1 initial + 3.
    expect(events.at(-1)?.data.available).toBe(4);
  });
});
