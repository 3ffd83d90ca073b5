import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import { amountTooLarge, amountTooLargeRejection, copyMoney, moneyProblem } from '../../money';
import { isCount, isString, MAX_COUNT, show } from '../../validation';
import { invalidProduct, productCommand, SAMPLE, textProblem } from '../rules';
import { noReservations } from '../state';

const command = message(
  'CreateProduct',
  {
    productId: 'string',
    sku: 'string',
    name: 'string',
    /** May be empty. */
    description: 'string',
    category: 'string',
    price: 'money',
    initialStock: 'int',
  },
  { version: 1, fingerprint: 'f9b61e134f8bf7de73e55df81aeea847be4ca05c194d5f6011279ec13bb31695' },
);

/** The command's fields, as accepted. */
const event = message('ProductCreated', command.fields, {
  version: 1,
  fingerprint: 'b48062fe09f20014df7697e19f1af4afe27684231b20a5e02d83f20daecb862c',
});

const details = {
  productId: SAMPLE.productId,
  sku: 'MUG-BLUE-350',
  name: 'Blue mug',
  description: 'Stoneware, 350 ml, dishwasher safe',
  category: 'kitchen',
  price: SAMPLE.eur(1999),
  initialStock: 40,
};

export const createProduct = productCommand(command, event, {
  decide(command, state) {
    const problem =
      textProblem({
        productId: command.productId,
        sku: command.sku,
        name: command.name,
        category: command.category,
      }) ??
      (isString(command.description) ? null : 'description must be a string') ??
      moneyProblem(command.price, 'price') ??
      (isCount(command.initialStock)
        ? null
        : `initialStock must be a whole number from 0 to ${MAX_COUNT}, got ${show(command.initialStock)}`);
    if (problem) return invalidProduct(problem);
    const tooLarge = amountTooLarge(command.price.amount, 'price');
    if (tooLarge) return amountTooLargeRejection(tooLarge);
    if (state.exists) {
      return reject('conflict', 'product_exists', `product ${command.productId} already exists`);
    }
    return accept({
      type: 'ProductCreated',
      productId: command.productId,
      sku: command.sku,
      name: command.name,
      description: command.description,
      category: command.category,
      price: copyMoney(command.price),
      initialStock: command.initialStock,
    });
  },
  // The one event that begins a stream: whatever came before is replaced.
  evolve: (_, event) => ({
    exists: true,
    productId: event.productId,
    sku: event.sku,
    name: event.name,
    description: event.description,
    category: event.category,
    price: copyMoney(event.price),
    available: event.initialStock,
    reservations: noReservations,
    discontinued: false,
    purchaseLimit: null,
  }),
  samples: {
    commands: [{ type: 'CreateProduct', ...details }],
    events: [{ type: 'ProductCreated', ...details }],
  },
});

export type CreateProduct = CommandOf<typeof command>;
export type ProductCreated = EventOf<typeof event>;
