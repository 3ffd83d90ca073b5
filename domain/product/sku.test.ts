import type { Rejection } from '../decider';
import { productDecider } from './decider';
import type { CreateProduct, ProductCommand, ProductCreated, ProductEvent } from './messages';
import { skuClaimedBy, skuHoldingChange, skuTaken } from './sku';
import type { ProductState } from './state';

const create = (productId: string, sku: string): CreateProduct => ({
  type: 'CreateProduct',
  productId,
  sku,
  name: 'Mug',
  description: '',
  category: 'kitchen',
  price: { amount: 1299, currency: 'EUR' },
  initialStock: 1,
});
const created = (productId: string, sku: string): ProductCreated => ({
  ...create(productId, sku),
  type: 'ProductCreated',
});
const discontinued = (productId: string): ProductEvent => ({
  type: 'ProductDiscontinued',
  productId,
});

/**
 * Given the events of several products, when a product is created: then accepted, or the
 * rejection. Holders are kept as a partition owner keeps them: each event's change, given its
 * product's state before it.
 */
function given(history: ProductEvent[]) {
  const products = new Map<string, ProductState>();
  const holders = new Map<string, Set<string>>();
  for (const event of history) {
    const before = products.get(event.productId) ?? productDecider.initialState;
    const change = skuHoldingChange(event, before);
    if (change) {
      const set = holders.get(change.sku) ?? new Set();
      if (change.held) set.add(change.productId);
      else set.delete(change.productId);
      holders.set(change.sku, set);
    }
    products.set(event.productId, productDecider.evolve(before, event));
  }
  return {
    when(command: ProductCommand): Rejection | 'accepted' {
      const state = products.get(command.productId) ?? productDecider.initialState;
      const decision = productDecider.decide(command, state);
      if (!decision.ok) return decision.rejection;
      const sku = skuClaimedBy(command);
      const refusal =
        sku === undefined
          ? undefined
          : skuTaken(sku, command.productId, [...(holders.get(sku) ?? [])]);
      return refusal ?? 'accepted';
    },
  };
}

describe('a SKU names one live product', () => {
  it('lets a product take a SKU no product holds', () => {
    expect(given([created('p-1', 'CUP-1')]).when(create('p-2', 'MUG-1'))).toBe('accepted');
  });

  it('refuses a SKU that a live product holds: sku_taken, naming the holder', () => {
    const rejection = given([created('p-1', 'MUG-1')]).when(create('p-2', 'MUG-1'));
    expect(rejection).toEqual({
      kind: 'conflict',
      code: 'sku_taken',
      reason: 'sku MUG-1 already names product p-1; discontinue it to reuse the sku',
    });
  });

  it('still refuses after the holder changed its price, details or stock', () => {
    const rejection = given([
      created('p-1', 'MUG-1'),
      {
        type: 'ProductPriceChanged',
        productId: 'p-1',
        price: { amount: 1, currency: 'EUR' },
        previousPrice: { amount: 1299, currency: 'EUR' },
      },
      {
        type: 'ProductDetailsUpdated',
        productId: 'p-1',
        name: 'n',
        description: '',
        category: 'c',
      },
      { type: 'ProductRestocked', productId: 'p-1', quantity: 3, available: 4 },
    ]).when(create('p-2', 'MUG-1'));
    expect(rejection).toMatchObject({ code: 'sku_taken' });
  });

  it('frees the SKU of a discontinued product for a new one, which then holds it', () => {
    const history = [created('p-1', 'MUG-1'), discontinued('p-1')];
    expect(given(history).when(create('p-2', 'MUG-1'))).toBe('accepted');
    expect(given([...history, created('p-2', 'MUG-1')]).when(create('p-3', 'MUG-1'))).toMatchObject(
      { code: 'sku_taken', reason: expect.stringContaining('product p-2') },
    );
  });

  it('compares SKUs exactly as written', () => {
    expect(given([created('p-1', 'MUG-1')]).when(create('p-2', 'mug-1'))).toBe('accepted');
  });

  it('answers the product’s own create again with product_exists, not sku_taken', () => {
    expect(given([created('p-1', 'MUG-1')]).when(create('p-1', 'MUG-1'))).toMatchObject({
      code: 'product_exists',
    });
  });

  it('checks the command’s own values first', () => {
    expect(given([created('p-1', 'MUG-1')]).when(create('p-2', ' '))).toMatchObject({
      code: 'invalid_product',
    });
  });

  it('claims a SKU with CreateProduct only, and frees it once', () => {
    expect(skuClaimedBy({ type: 'DiscontinueProduct', productId: 'p-1' })).toBeUndefined();
    expect(skuClaimedBy(create('p-1', ''))).toBeUndefined();
    const gone = productDecider.evolve(
      productDecider.evolve(productDecider.initialState, created('p-1', 'MUG-1')),
      discontinued('p-1'),
    );
    expect(skuHoldingChange(discontinued('p-1'), gone)).toBeUndefined();
    expect(skuHoldingChange(discontinued('p-9'), productDecider.initialState)).toBeUndefined();
  });
});
