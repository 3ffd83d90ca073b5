import { randomUUID } from 'node:crypto';
import {
  type Decider,
  type OrderCommand,
  type OrderEvent,
  orderDecider,
  type ProductCommand,
  type ProductEvent,
  productDecider,
} from '../../domain';
import type { Config } from '../../lib/config';
import { createKafkaClient, type OutgoingRecord, partitionOf } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { encodeEvent } from '../../schemas/codec';

/** An event record before its topic is known. */
type Unaddressed = Omit<OutgoingRecord, 'topic'>;

interface Aggregate<S> {
  state: S;
  version: number;
}

/**
 * Writes `count` (or a few more) valid domain events straight into the event topics, as
 * partition owners would: commands decided by the real deciders against the state so far,
 * each aggregate's events in its partition, in order. A fast load for projection tests.
 */
export async function produceEventLoad(config: Config, count: number, seed = 1): Promise<number> {
  let random = seed;
  const next = () => {
    random = (random * 1103515245 + 12345) % 2147483648;
    return random / 2147483648;
  };
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  const names = topicNames(config.topics);
  const products = new Map<string, Aggregate<ReturnType<typeof productDecider.evolve>>>();
  const orders = new Map<string, Aggregate<ReturnType<typeof orderDecider.evolve>>>();
  const out = { product: [] as Unaddressed[], order: [] as Unaddressed[] };
  let produced = 0;

  function decide<C, E extends { type: string }, S>(
    decider: Decider<C, E, S>,
    store: Map<string, Aggregate<S>>,
    id: string,
    command: C,
    into: Unaddressed[],
  ): boolean {
    const aggregate = store.get(id) ?? { state: decider.initialState, version: 0 };
    const decision = decider.decide(command, aggregate.state);
    if (!decision.ok) return false;
    for (const event of decision.events) {
      aggregate.state = decider.evolve(aggregate.state, event);
      aggregate.version += 1;
      const commandId = randomUUID();
      const { value, headers } = encodeEvent(event, {
        aggregateId: id,
        aggregateVersion: aggregate.version,
        commandId,
        correlationId: commandId,
        causationId: commandId,
        occurredAt: new Date(Date.UTC(2026, 0, 1) + produced * 1000).toISOString(),
        actor: 'load:test',
      });
      into.push({ key: id, value, headers, partition: partitionOf(id, config.topics.partitions) });
      produced += 1;
    }
    store.set(id, aggregate);
    return true;
  }

  const productIds = Array.from({ length: 60 }, (_, i) => `load-product-${seed}-${i}`);
  for (const [i, productId] of productIds.entries()) {
    decide<ProductCommand, ProductEvent, ReturnType<typeof productDecider.evolve>>(
      productDecider,
      products,
      productId,
      {
        type: 'CreateProduct',
        productId,
        sku: `SKU-${i}`,
        name: `Product ${i}`,
        description: '',
        category: pick(['kitchen', 'garden', 'books', 'toys']),
        price: { amount: 100 + Math.floor(next() * 9900), currency: 'EUR' },
        initialStock: 50,
      },
      out.product,
    );
  }
  let n = 0;
  while (produced < count) {
    n += 1;
    const productId = pick(productIds);
    const roll = next();
    if (roll < 0.35) {
      const orderId = `load-order-${seed}-${n}`;
      const customerId = `load-customer-${Math.floor(next() * 200)}`;
      const lines = [
        {
          productId,
          quantity: 1 + Math.floor(next() * 3),
          unitPrice: { amount: 500, currency: 'EUR' },
        },
      ];
      if (
        decide<OrderCommand, OrderEvent, ReturnType<typeof orderDecider.evolve>>(
          orderDecider,
          orders,
          orderId,
          { type: 'PlaceOrder', orderId, customerId, lines },
          out.order,
        )
      ) {
        decide<ProductCommand, ProductEvent, ReturnType<typeof productDecider.evolve>>(
          productDecider,
          products,
          productId,
          { type: 'ReserveStock', productId, orderId, quantity: lines[0]?.quantity ?? 1 },
          out.product,
        ) &&
          decide<OrderCommand, OrderEvent, ReturnType<typeof orderDecider.evolve>>(
            orderDecider,
            orders,
            orderId,
            { type: 'RecordStockReserved', orderId, productId },
            out.order,
          );
      }
    } else if (roll < 0.5) {
      decide<ProductCommand, ProductEvent, ReturnType<typeof productDecider.evolve>>(
        productDecider,
        products,
        productId,
        { type: 'RestockProduct', productId, quantity: 1 + Math.floor(next() * 20) },
        out.product,
      );
    } else if (roll < 0.6) {
      decide<ProductCommand, ProductEvent, ReturnType<typeof productDecider.evolve>>(
        productDecider,
        products,
        productId,
        {
          type: 'ChangePrice',
          productId,
          price: { amount: 100 + Math.floor(next() * 9900), currency: 'EUR' },
        },
        out.product,
      );
    } else {
      const orderId = `load-order-${seed}-${1 + Math.floor(next() * n)}`;
      const order = orders.get(orderId);
      if (!order) continue;
      decide<OrderCommand, OrderEvent, ReturnType<typeof orderDecider.evolve>>(
        orderDecider,
        orders,
        orderId,
        { type: 'CancelOrder', orderId, reason: 'load test' },
        out.order,
      );
    }
  }

  const producer = createKafkaClient(config).producer();
  try {
    for (const [topic, records] of [
      [names.productEvents, out.product],
      [names.orderEvents, out.order],
    ] as const) {
      for (let i = 0; i < records.length; i += 1000) {
        await producer.send(records.slice(i, i + 1000).map((r) => ({ ...r, topic })));
      }
    }
  } finally {
    await producer.close();
  }
  return produced;
}
