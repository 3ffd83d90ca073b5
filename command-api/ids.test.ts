import { partitionOf } from '../lib/kafka';
import { commandIdFor, deterministicUuid, newAggregateId, newProductId, requestHash } from './ids';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids', () => {
  it('gives the same command id for the same caller and Idempotency-Key, another for anyone else', () => {
    const a = commandIdFor('customer:alice', 'key-1');
    expect(a).toMatch(UUID);
    expect(commandIdFor('customer:alice', 'key-1')).toBe(a);
    expect(commandIdFor('customer:bob', 'key-1')).not.toBe(a);
    expect(commandIdFor('customer:alice', 'key-2')).not.toBe(a);
  });

  it('gives a fresh command id without a key', () => {
    expect(commandIdFor('customer:alice', undefined)).not.toBe(
      commandIdFor('customer:alice', undefined),
    );
  });

  it('derives a created aggregate’s id from its command', () => {
    expect(newAggregateId('c1')).toBe(newAggregateId('c1'));
    expect(newAggregateId('c1')).not.toBe(newAggregateId('c2'));
    expect(deterministicUuid('x')).toMatch(UUID);
  });

  it('puts a new product in its SKU’s partition, the same id for every retry of its command', () => {
    for (const partitions of [1, 3, 6, 12]) {
      for (let i = 0; i < 50; i += 1) {
        const sku = `SKU-${i}`;
        const id = newProductId(`cmd-${i}`, sku, partitions);
        expect(id).toMatch(UUID);
        expect(partitionOf(id, partitions)).toBe(partitionOf(sku, partitions));
        expect(newProductId(`cmd-${i}`, sku, partitions)).toBe(id);
      }
    }
    // The command's usual id when it already fits; another command, another product.
    expect(newProductId('c1', 'any', 1)).toBe(newAggregateId('c1'));
    expect(newProductId('c1', 'MUG-1', 6)).not.toBe(newProductId('c2', 'MUG-1', 6));
  });

  it('hashes a request independently of key order, but not of values', () => {
    expect(requestHash('POST', '/orders', { a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      requestHash('POST', '/orders', { b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    expect(requestHash('POST', '/orders', { a: 1 })).not.toBe(
      requestHash('POST', '/orders', { a: 2 }),
    );
    expect(requestHash('POST', '/orders', { a: 1 })).not.toBe(
      requestHash('POST', '/products', { a: 1 }),
    );
  });
});
