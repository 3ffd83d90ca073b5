import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import { isPositiveCount, MAX_COUNT } from '../../validation';
import {
  discontinued,
  invalidQuantity,
  onProduct,
  productCommand,
  SAMPLE,
  withProduct,
} from '../rules';

const command = message(
  'RestockProduct',
  { productId: 'string', quantity: 'int' },
  { version: 1, fingerprint: '06afba51640928c981d4bc600f5143aac9985484cd476bff8764885357024441' },
);

const event = message(
  'ProductRestocked',
  {
    productId: 'string',
    quantity: 'int',
    /** Units available after the restock. */
    available: 'int',
  },
  { version: 1, fingerprint: 'c7865ebd640350c1c156cd3d61a564ad03094dc0f61baec86f195dc5f00189d0' },
);

export const restockProduct = productCommand(command, event, {
  decide(command, state) {
    if (!isPositiveCount(command.quantity)) return invalidQuantity(command.quantity);
    return withProduct(command, state, (product) => {
      if (product.discontinued) return discontinued(product);
      const available = product.available + command.quantity;
      if (available > MAX_COUNT) {
        return reject(
          'invalid',
          'invalid_quantity',
          `${product.available} units available plus ${command.quantity} exceeds the most a product can hold (${MAX_COUNT})`,
        );
      }
      return accept({
        type: 'ProductRestocked',
        productId: product.productId,
        quantity: command.quantity,
        available,
      });
    });
  },
  evolve: onProduct((product, event) => ({
    ...product,
    available: product.available + event.quantity,
  })),
  samples: {
    commands: [{ type: 'RestockProduct', productId: SAMPLE.productId, quantity: 10 }],
    events: [
      { type: 'ProductRestocked', productId: SAMPLE.productId, quantity: 10, available: 50 },
    ],
  },
});

export type RestockProduct = CommandOf<typeof command>;
export type ProductRestocked = EventOf<typeof event>;
