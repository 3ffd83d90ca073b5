import { scenario } from '../../test-kit';
import { MAX_COUNT } from '../../validation';
import { productDecider } from '../decider';
import type { ProductCommand, ProductEvent, StockReserved } from '../messages';
import { createProduct } from './create-product';

const { given } = scenario(productDecider);

// The module's own samples: a product of 40 units, and a reservation by order o-1.
const [created] = createProduct.samples.events;
if (!created) throw new Error('createProduct has no sample event');
const { productId } = created;
const discontinued: ProductEvent = { type: 'ProductDiscontinued', productId };
const reserved = (quantity: number): StockReserved => ({
  type: 'StockReserved',
  productId,
  orderId: 'o-1',
  quantity,
  available: created.initialStock - quantity,
});

describe('SetPurchaseLimit', () => {
  const limitSet = (limit: number | null): ProductEvent => ({
    type: 'ProductPurchaseLimitSet',
    productId,
    limit,
  });
  const setLimit = (limit: number | null): ProductCommand => ({
    type: 'SetPurchaseLimit',
    productId,
    limit,
  });

  it('sets and lifts the most units one order may reserve', () => {
    expect(
      given([created])
        .when(setLimit(3))
        .then([limitSet(3)]),
    ).toMatchObject({
      purchaseLimit: 3,
    });
    expect(
      given([created, limitSet(3)])
        .when(setLimit(null))
        .then([limitSet(null)]),
    ).toMatchObject({
      purchaseLimit: null,
    });
  });

  it('is applied once: the limit the product has already gives no events', () => {
    given([created, limitSet(3)])
      .when(setLimit(3))
      .then([]);
    given([created]).when(setLimit(null)).then([]);
    given([created, limitSet(3)])
      .when({ type: 'SetPurchaseLimit', productId })
      .then([limitSet(null)]);
  });

  it.each([0, -1, 2.5, MAX_COUNT + 1])('rejects a limit of %p as invalid_quantity', (limit) => {
    given([created]).when(setLimit(limit)).thenReject('invalid_quantity', 'invalid');
  });

  it('rejects an unknown or discontinued product', () => {
    given([]).when(setLimit(3)).thenReject('product_not_found', 'not_found');
    given([created, discontinued]).when(setLimit(3)).thenReject('product_discontinued', 'conflict');
  });

  it('limits what ReserveStock takes for one order, though the stock is there', () => {
    const rejection = given([created, limitSet(3)])
      .when({ type: 'ReserveStock', productId, orderId: 'o-1', quantity: 4 })
      .thenReject('purchase_limit_exceeded', 'conflict');
    expect(rejection.reason).toBe('at most 3 units per order, 4 requested');
    given([created, limitSet(3)])
      .when({ type: 'ReserveStock', productId, orderId: 'o-1', quantity: 3 })
      .then([reserved(3)]);
  });

  it('leaves a reservation made before the limit applied once', () => {
    given([created, reserved(5), limitSet(3)])
      .when({ type: 'ReserveStock', productId, orderId: 'o-1', quantity: 5 })
      .then([]);
  });
});
