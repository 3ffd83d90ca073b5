import { createHash, randomUUID } from 'node:crypto';
import { type ProductCommand, type ProductState, productDecider } from '../../../domain';
import type { OutgoingRecord } from '../../../lib/kafka';
import { encodeEvent } from '../../../schemas/codec';

/** An event record of one partition, before its topic is named. */
export type PartitionRecord = Omit<OutgoingRecord, 'topic'>;

/** Products of the history: about one per hundred events, as a busy catalogue partition has. */
const EVENTS_PER_PRODUCT = 100;

/**
 * `count` product events of one partition as an owner would have appended them: commands
 * decided by the real decider (products created, then orders' reservations made and
 * committed, restocked when they run low), each event's headers naming its command so a new
 * owner rebuilds the commands' outcomes too.
 */
export function productHistory(count: number): PartitionRecord[] {
  const products = Math.max(1, Math.ceil(count / EVENTS_PER_PRODUCT));
  const states = new Map<string, { state: ProductState; version: number }>();
  const records: PartitionRecord[] = [];
  const decide = (productId: string, command: ProductCommand) => {
    const current = states.get(productId) ?? { state: productDecider.initialState, version: 0 };
    const decision = productDecider.decide(command, current.state);
    if (!decision.ok) throw new Error(`${command.type}: ${decision.rejection.code}`);
    const commandId = randomUUID();
    for (const event of decision.events) {
      current.state = productDecider.evolve(current.state, event);
      current.version += 1;
      const { value, headers } = encodeEvent(event, {
        aggregateId: productId,
        aggregateVersion: current.version,
        commandId,
        correlationId: commandId,
        causationId: commandId,
        occurredAt: new Date().toISOString(),
        actor: 'bench:failover',
        commandType: command.type,
        requestHash: createHash('sha256').update(commandId).digest('hex'),
      });
      records.push({ key: productId, value, headers, partition: 0 });
    }
    states.set(productId, current);
  };

  const ids = Array.from({ length: products }, (_, i) => `bench-failover-product-${i}`);
  for (const [i, productId] of ids.entries())
    decide(productId, {
      type: 'CreateProduct',
      productId,
      sku: `FAILOVER-${i}`,
      name: `Failover ${i}`,
      description: '',
      category: 'bench',
      price: { amount: 1000, currency: 'EUR' },
      initialStock: 1000,
    });
  for (let n = 0; records.length < count; n += 1) {
    const productId = ids[n % ids.length] ?? '';
    const orderId = `bench-failover-order-${n}`;
    const stock = states.get(productId)?.state;
    if (stock && 'available' in stock && stock.available < 10)
      decide(productId, { type: 'RestockProduct', productId, quantity: 1000 });
    decide(productId, { type: 'ReserveStock', productId, orderId, quantity: 1 });
    decide(productId, { type: 'CommitReservation', productId, orderId });
  }
  return records.slice(0, count);
}
