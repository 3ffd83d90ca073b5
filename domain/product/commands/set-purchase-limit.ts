import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message, nullable } from '../../message';
import { isAbsent, isPositiveCount, MAX_COUNT, show } from '../../validation';
import { discontinued, onProduct, productCommand, SAMPLE, withProduct } from '../rules';

/** The most units one order may reserve; absent (undefined or null) lifts the limit. */
const command = message(
  'SetPurchaseLimit',
  { productId: 'string', limit: nullable('int') },
  { version: 1, fingerprint: 'da07802c5b45b08f3c94d553eba07a37e97b279db17bf2c37a152cdfcc2de03d' },
);

/** The most units one order may reserve from now on (null: no limit). */
const event = message(
  'ProductPurchaseLimitSet',
  { productId: 'string', limit: nullable('int') },
  { version: 1, fingerprint: 'd24e6f0841a8c632d3f9e88267dce8266ef1d451dcc961c8760a212d36ddeff4' },
);

export const setPurchaseLimit = productCommand(command, event, {
  decide(command, state) {
    const limit = isAbsent(command.limit) ? null : command.limit;
    if (limit !== null && !isPositiveCount(limit)) {
      return reject(
        'invalid',
        'invalid_quantity',
        `limit must be a whole number from 1 to ${MAX_COUNT}, or null for none, got ${show(command.limit)}`,
      );
    }
    return withProduct(command, state, (product) => {
      if (product.discontinued) return discontinued(product);
      // Setting the limit it has is applied once: nothing new.
      if (product.purchaseLimit === limit) return accept();
      return accept({ type: 'ProductPurchaseLimitSet', productId: product.productId, limit });
    });
  },
  evolve: onProduct((product, event) => ({ ...product, purchaseLimit: event.limit })),
  samples: {
    commands: [
      { type: 'SetPurchaseLimit', productId: SAMPLE.productId, limit: 5 },
      { type: 'SetPurchaseLimit', productId: SAMPLE.productId },
    ],
    events: [
      { type: 'ProductPurchaseLimitSet', productId: SAMPLE.productId, limit: 5 },
      { type: 'ProductPurchaseLimitSet', productId: SAMPLE.productId, limit: null },
    ],
  },
});

export type SetPurchaseLimit = CommandOf<typeof command>;
export type ProductPurchaseLimitSet = EventOf<typeof event>;
