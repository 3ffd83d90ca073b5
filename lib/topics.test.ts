import { loadConfig } from './config';
import { formatDelay, topicCatalogue, topicNames } from './topics';

describe('topics', () => {
  const topics = loadConfig({ TOPIC_PREFIX: 'shop', TOPIC_PARTITIONS: '3' }).topics;

  it('names every topic under the configured prefix', () => {
    const names = topicNames(topics);
    expect(names.productEvents).toBe('shop.product.events');
    expect(names.orderCommands).toBe('shop.order.commands');
    expect(names.sagaRetries).toEqual([
      'shop.saga.retry.1s',
      'shop.saga.retry.10s',
      'shop.saga.retry.1m',
    ]);
    for (const spec of topicCatalogue(topics)) expect(spec.name.startsWith('shop.')).toBe(true);
  });

  it('keeps events forever and co-partitions commands with events', () => {
    const byName = new Map(topicCatalogue(topics).map((t) => [t.name, t]));
    const events = byName.get('shop.order.events');
    const commands = byName.get('shop.order.commands');
    expect(events?.config).toEqual({ 'retention.ms': '-1', 'cleanup.policy': 'delete' });
    expect(events?.partitions).toBe(3);
    expect(commands?.partitions).toBe(3);
    expect(Number(commands?.config['retention.ms'])).toBeGreaterThan(0);
    expect(byName.get('shop.schemas')?.config['cleanup.policy']).toBe('compact');
  });

  it('formats delays in the largest whole unit', () => {
    expect([
      formatDelay(500),
      formatDelay(2000),
      formatDelay(120_000),
      formatDelay(7_200_000),
    ]).toEqual(['500ms', '2s', '2m', '2h']);
  });
});
