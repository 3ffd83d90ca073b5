import { CommandBus } from '../../command-api/command-bus';
import type { CommandReply } from '../../command-api/processor/reply';
import type { PlaceOrder } from '../../domain';
import { MAX_MINOR_UNITS } from '../../domain/money';
import type { Config } from '../../lib/config';
import { createKafkaClient, partitionOf } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import {
  call,
  isolatedConfig,
  type RunningCommandApi,
  readEvents,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { silentLogger } from '../support/test-env';

/**
 * Issue 9, item 1: an order whose total is 2^53-1 (a product priced 9007199254740990 and a
 * 1-cent one) used to reach the owner, whose transaction then failed to encode the event,
 * forever: that command and every later one on its partition stayed undecided. The order is
 * sent straight to the commands topic here (as any producer may), past the HTTP checks.
 */
describe('one command cannot stall its partition', () => {
  let config: Config;
  let api: RunningCommandApi;
  let bus: CommandBus;
  let topics: ReturnType<typeof topicNames>;

  beforeAll(async () => {
    config = await isolatedConfig('poison', { COMMAND_TIMEOUT_MS: '15000' });
    topics = topicNames(config.topics);
    api = await startCommandApi(config);
    bus = new CommandBus(createKafkaClient(config), silentLogger(), [topics.orderReplies]);
    await bus.start();
  });
  afterAll(async () => {
    await bus?.stop();
    await api?.stop();
  });

  /** Order ids that all land in the partition of the first. */
  const samePartition = (count: number): string[] => {
    const target = partitionOf('stall-order-0', config.topics.partitions);
    const ids: string[] = [];
    for (let i = 0; ids.length < count; i += 1) {
      const id = `stall-order-${i}`;
      if (partitionOf(id, config.topics.partitions) === target) ids.push(id);
    }
    return ids;
  };

  const place = (
    orderId: string,
    lines: PlaceOrder['lines'],
  ): Promise<CommandReply | undefined> => {
    const command: PlaceOrder = { type: 'PlaceOrder', orderId, customerId: 'c-1', lines };
    return bus.send(
      topics.orderCommands,
      orderId,
      command,
      {
        commandId: `cmd-${orderId}`,
        correlationId: orderId,
        actor: 'customer:c-1',
        requestHash: '',
      },
      config.commands.timeoutMs,
    );
  };

  it('refuses an order totalling 2^53-1 and decides every later order on the same partition', async () => {
    const [poisoned, ...later] = samePartition(6) as [string, ...string[]];
    const eur = (amount: number) => ({ amount, currency: 'EUR' });

    const refused = await place(poisoned, [
      { productId: 'p-dear', quantity: 1, unitPrice: eur(9_007_199_254_740_990) },
      { productId: 'p-cent', quantity: 1, unitPrice: eur(1) },
    ]);
    expect(refused?.outcome).toMatchObject({
      status: 'rejected',
      rejection: { kind: 'invalid', code: 'amount_too_large' },
    });

    const decided = await Promise.all(
      later.map((orderId) =>
        place(orderId, [{ productId: 'p-cent', quantity: 2, unitPrice: eur(1) }]),
      ),
    );
    expect(decided.map((r) => r?.outcome.status)).toEqual(later.map(() => 'accepted'));

    const placed = (await readEvents(config, topics.orderEvents)).map((e) => e.aggregateId);
    expect(placed).not.toContain(poisoned);
    expect(placed).toEqual(expect.arrayContaining(later));
  });

  describe('money has a bound the command API enforces up front', () => {
    const product = (sku: string, amount: number) => ({
      sku,
      name: sku,
      category: 'test',
      price: { amount, currency: 'EUR' },
      initialStock: 10,
    });
    const allEvents = async () => [
      ...(await readEvents(config, topics.productEvents)),
      ...(await readEvents(config, topics.orderEvents)),
    ];

    it.each([
      ['2^53 - 1', Number.MAX_SAFE_INTEGER],
      ['9007199254740990', 9_007_199_254_740_990],
      ['one above the bound', MAX_MINOR_UNITS + 1],
    ])(
      'refuses a product price of %s with 400 naming price.amount, never 500',
      async (_l, amount) => {
        const admin = await tokenFor(config, 'admin', 'alice');
        const before = (await allEvents()).length;
        const res = await call(api.url, 'POST', '/products', {
          token: admin,
          body: product(`DEAR-${amount}`, amount),
        });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([
          { field: 'price.amount', message: `expected at most ${MAX_MINOR_UNITS} minor units` },
        ]);
        expect((await allEvents()).length).toBe(before);
      },
    );

    it('refuses with 422 an order whose line total or total is above the bound, naming the item', async () => {
      const admin = await tokenFor(config, 'admin', 'alice');
      const customer = await tokenFor(config, 'customer', 'c-9');
      const create = async (sku: string, amount: number) => {
        const res = await call(api.url, 'POST', '/products', {
          token: admin,
          body: product(sku, amount),
        });
        expect(res.status).toBe(201);
        return res.body.aggregateId as string;
      };
      const dearest = await create('DEAREST', MAX_MINOR_UNITS);
      const half = await create('HALF', MAX_MINOR_UNITS / 2 + 1);
      const cheap = await create('CHEAP', 1);
      const order = (items: { productId: string; quantity: number }[]) =>
        call(api.url, 'POST', '/orders', { token: customer, body: { items } });
      const before = (await allEvents()).length;

      const line = await order([
        { productId: cheap, quantity: 1 },
        { productId: dearest, quantity: 2 },
      ]);
      expect(line.status).toBe(422);
      expect(line.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(line.body).toMatchObject({
        code: 'amount_too_large',
        errors: [{ field: 'items[1]' }],
      });
      expect(line.body.detail).toContain(`2 × ${MAX_MINOR_UNITS}`);

      const total = await order([
        { productId: half, quantity: 1 },
        { productId: dearest, quantity: 1 },
      ]);
      expect(total.status).toBe(422);
      expect(total.body).toMatchObject({ code: 'amount_too_large', errors: [{ field: 'items' }] });
      expect(total.body.detail).toContain('the order total');
      expect((await allEvents()).length).toBe(before);

      const fine = await order([{ productId: dearest, quantity: 1 }]);
      expect(fine.status).toBe(201);
    });
  });
});
