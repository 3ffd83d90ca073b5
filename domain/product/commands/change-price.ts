import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import {
  amountTooLarge,
  amountTooLargeRejection,
  copyMoney,
  currencyMismatch,
  moneyProblem,
} from '../../money';
import {
  discontinued,
  invalidProduct,
  onProduct,
  productCommand,
  SAMPLE,
  withProduct,
} from '../rules';

const command = message(
  'ChangePrice',
  { productId: 'string', price: 'money' },
  { version: 1, fingerprint: '428bb8a300a3a79156189ea874f08ca771c64d2b6223c6bb6b2f2ef8a65d5c28' },
);

const event = message(
  'ProductPriceChanged',
  {
    productId: 'string',
    price: 'money',
    previousPrice: 'money',
  },
  { version: 1, fingerprint: '7284f2abbe096e4ccdd7e1fe49d91ac09dc1b4bd8453b429150dd808864431a1' },
);

export const changePrice = productCommand(command, event, {
  decide(command, state) {
    const problem = moneyProblem(command.price, 'price');
    if (problem) return invalidProduct(problem);
    const tooLarge = amountTooLarge(command.price.amount, 'price');
    if (tooLarge) return amountTooLargeRejection(tooLarge);
    return withProduct(command, state, (product) => {
      if (product.discontinued) return discontinued(product);
      const mismatch = currencyMismatch(
        command.price,
        product.price,
        `product ${product.productId}`,
      );
      if (mismatch) return reject('invalid', 'currency_mismatch', mismatch);
      return accept({
        type: 'ProductPriceChanged',
        productId: product.productId,
        price: copyMoney(command.price),
        previousPrice: copyMoney(product.price),
      });
    });
  },
  evolve: onProduct((product, event) => ({ ...product, price: copyMoney(event.price) })),
  samples: {
    commands: [{ type: 'ChangePrice', productId: SAMPLE.productId, price: SAMPLE.eur(2199) }],
    events: [
      {
        type: 'ProductPriceChanged',
        productId: SAMPLE.productId,
        price: SAMPLE.eur(2199),
        previousPrice: SAMPLE.eur(1999),
      },
    ],
  },
});

export type ChangePrice = CommandOf<typeof command>;
export type ProductPriceChanged = EventOf<typeof event>;
