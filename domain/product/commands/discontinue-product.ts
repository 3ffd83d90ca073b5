import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import { onProduct, productCommand, SAMPLE, withProduct } from '../rules';

const command = message(
  'DiscontinueProduct',
  { productId: 'string' },
  { version: 1, fingerprint: '57087b054bee5c2375e1dc3146502bc5ac3f16307f4559ed6e34380a40fad108' },
);

const event = message(
  'ProductDiscontinued',
  { productId: 'string' },
  { version: 1, fingerprint: 'e2397199005b3f661335e3beb15f742c64c90a46dcded8d272e70273a294a5aa' },
);

export const discontinueProduct = productCommand(command, event, {
  decide: (command, state) =>
    withProduct(command, state, (product) =>
      product.discontinued
        ? reject(
            'conflict',
            'product_discontinued',
            `product ${product.productId} is already discontinued`,
          )
        : accept({ type: 'ProductDiscontinued', productId: product.productId }),
    ),
  evolve: onProduct((product) => ({ ...product, discontinued: true })),
  samples: {
    commands: [{ type: 'DiscontinueProduct', productId: SAMPLE.productId }],
    events: [{ type: 'ProductDiscontinued', productId: SAMPLE.productId }],
  },
});

export type DiscontinueProduct = CommandOf<typeof command>;
export type ProductDiscontinued = EventOf<typeof event>;
