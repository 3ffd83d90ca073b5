import type { KafkaMessage } from 'kafkajs';
import { aggregateKinds } from '../../command-api/aggregates';
import { PartitionOwner } from '../../command-api/processor/partition-owner';
import { partitionOf } from '../../command-api/processor/partitioning';
import type { ProductCommand } from '../../domain';
import { createKafka } from '../../lib/kafka';
import { encodeCommand } from '../../schemas/codec';
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
    const options = {
      kafka: createKafka(config),
      logger: silentLogger(),
      consumerGroupId: `${config.topics.prefix}.zombie-test`,
      transactionalIdPrefix: `${config.topics.prefix}.owner`,
      partitions: config.topics.partitions,
      maxCommandsPerTransaction: 50,
      maxRememberedCommands: 1000,
    };
    const productId = 'zombie-product';
    const partition = partitionOf(productId, config.topics.partitions);
    let offset = 0;
    const message = (command: ProductCommand, commandId: string): KafkaMessage => {
      const { value, headers } = encodeCommand(command, {
        commandId,
        correlationId: commandId,
        actor: 'admin:test',
        issuedAt: new Date().toISOString(),
      });
      return {
        key: Buffer.from(productId),
        value,
        headers,
        offset: String(offset++),
        timestamp: '0',
        attributes: 0,
      };
    };
    const noop = async () => undefined;

    const old = new PartitionOwner(kind, partition, options);
    await old.start(noop);
    await old.handle(
      kind.topics.commands,
      [
        message(
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
        ),
      ],
      noop,
    );

    const successor = new PartitionOwner(kind, partition, options);
    await successor.start(noop);
    await expect(
      old.handle(
        kind.topics.commands,
        [message({ type: 'RestockProduct', productId, quantity: 7 }, 'from-zombie')],
        noop,
      ),
    ).rejects.toThrow();
    await successor.handle(
      kind.topics.commands,
      [message({ type: 'RestockProduct', productId, quantity: 3 }, 'from-successor')],
      noop,
    );
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
