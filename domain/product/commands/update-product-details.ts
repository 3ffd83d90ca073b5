import { accept } from '../../decider';
import { type CommandOf, type EventOf, message, nullable } from '../../message';
import { isAbsent, isString, isText } from '../../validation';
import {
  discontinued,
  invalidProduct,
  onProduct,
  productCommand,
  SAMPLE,
  withProduct,
} from '../rules';

/** At least one of name, description, category. Absent may be undefined (JSON) or null (Avro). */
const command = message(
  'UpdateProductDetails',
  {
    productId: 'string',
    name: nullable('string'),
    description: nullable('string'),
    category: nullable('string'),
  },
  { version: 1, fingerprint: '990b86dde94d10baf4d2b78ca54b5d0d96f2fc1207b3d00e0a9173b614e82f28' },
);

/** Carries all three details (the new values), so readers need no earlier event. */
const event = message(
  'ProductDetailsUpdated',
  {
    productId: 'string',
    name: 'string',
    description: 'string',
    category: 'string',
  },
  { version: 1, fingerprint: '4bd7f691a659cca1dea4cc21c6e51f9ad2c731918ad7ab35b607d684efffb48e' },
);

export const updateProductDetails = productCommand(command, event, {
  decide(command, state) {
    const { name, description, category } = command;
    if (isAbsent(name) && isAbsent(description) && isAbsent(category)) {
      return invalidProduct('give at least one of name, description, category');
    }
    if (!isAbsent(name) && !isText(name)) return invalidProduct('name must not be empty');
    if (!isAbsent(category) && !isText(category)) {
      return invalidProduct('category must not be empty');
    }
    if (!isAbsent(description) && !isString(description)) {
      return invalidProduct('description must be a string');
    }
    return withProduct(command, state, (product) => {
      if (product.discontinued) return discontinued(product);
      return accept({
        type: 'ProductDetailsUpdated',
        productId: product.productId,
        name: name ?? product.name,
        description: description ?? product.description,
        category: category ?? product.category,
      });
    });
  },
  evolve: onProduct((product, event) => ({
    ...product,
    name: event.name,
    description: event.description,
    category: event.category,
  })),
  samples: {
    commands: [
      {
        type: 'UpdateProductDetails',
        productId: SAMPLE.productId,
        name: 'Blue mug (large)',
        description: '',
      },
    ],
    events: [
      {
        type: 'ProductDetailsUpdated',
        productId: SAMPLE.productId,
        name: 'Blue mug (large)',
        description: '',
        category: 'kitchen',
      },
    ],
  },
});

export type UpdateProductDetails = CommandOf<typeof command>;
export type ProductDetailsUpdated = EventOf<typeof event>;
