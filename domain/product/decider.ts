import { accept, type Decider, type Decision, reject } from '../decider';
import { amountTooLarge, amountTooLargeRejection, copyMoney, moneyProblem } from '../money';
import {
  isAbsent,
  isCount,
  isPositiveCount,
  isRecord,
  isString,
  isText,
  lookup,
  MAX_COUNT,
  show,
} from '../validation';
import type {
  ChangePrice,
  CommitReservation,
  CreateProduct,
  DiscontinueProduct,
  ProductCommand,
  ReleaseReservation,
  ReserveStock,
  RestockProduct,
  UpdateProductDetails,
} from './commands';
import type { ProductEvent } from './events';
import { evolveProduct, initialProductState, type Product, type ProductState } from './state';

type Outcome = Decision<ProductEvent>;

// Checks run in a fixed order: the command's own values (invalid), then existence
// (not_found / exists), then the rules of the current state (conflict).

const invalidProduct = (reason: string): Outcome => reject('invalid', 'invalid_product', reason);
const invalidQuantity = (quantity: unknown): Outcome =>
  reject(
    'invalid',
    'invalid_quantity',
    `quantity must be a whole number from 1 to ${MAX_COUNT}, got ${show(quantity)}`,
  );
const notFound = (productId: string): Outcome =>
  reject('not_found', 'product_not_found', `product ${productId} does not exist`);
const discontinued = (product: Product): Outcome =>
  reject('conflict', 'product_discontinued', `product ${product.productId} is discontinued`);

/** The first required text field that is empty, as a reason, or null. */
function textProblem(fields: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(fields)) {
    if (!isText(value)) return `${name} must not be empty`;
  }
  return null;
}

/** Runs `then` on an existing product, else the not-found rejection. */
function withProduct(
  command: { productId: string },
  state: ProductState,
  then: (product: Product) => Outcome,
): Outcome {
  if (!isText(command.productId)) return invalidProduct('productId must not be empty');
  return state.exists ? then(state) : notFound(command.productId);
}

function createProduct(command: CreateProduct, state: ProductState): Outcome {
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
}

function updateDetails(command: UpdateProductDetails, state: ProductState): Outcome {
  const { name, description, category } = command;
  if (isAbsent(name) && isAbsent(description) && isAbsent(category)) {
    return invalidProduct('give at least one of name, description, category');
  }
  if (!isAbsent(name) && !isText(name)) return invalidProduct('name must not be empty');
  if (!isAbsent(category) && !isText(category)) return invalidProduct('category must not be empty');
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
}

function changePrice(command: ChangePrice, state: ProductState): Outcome {
  const problem = moneyProblem(command.price, 'price');
  if (problem) return invalidProduct(problem);
  const tooLarge = amountTooLarge(command.price.amount, 'price');
  if (tooLarge) return amountTooLargeRejection(tooLarge);
  return withProduct(command, state, (product) => {
    if (product.discontinued) return discontinued(product);
    if (command.price.currency !== product.price.currency) {
      return reject(
        'invalid',
        'currency_mismatch',
        `price is in ${command.price.currency} but product ${product.productId} is priced in ${product.price.currency}`,
      );
    }
    return accept({
      type: 'ProductPriceChanged',
      productId: product.productId,
      price: copyMoney(command.price),
      previousPrice: copyMoney(product.price),
    });
  });
}

function restock(command: RestockProduct, state: ProductState): Outcome {
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
}

function reserveStock(command: ReserveStock, state: ProductState): Outcome {
  if (!isText(command.orderId)) return invalidProduct('orderId must not be empty');
  if (!isPositiveCount(command.quantity)) return invalidQuantity(command.quantity);
  return withProduct(command, state, (product) => {
    const held = lookup(product.reservations, command.orderId);
    // Applied once: a repeat is a success with nothing new, even after discontinuation.
    if (held === command.quantity) return accept();
    if (product.discontinued) return discontinued(product);
    if (held !== undefined) {
      return reject(
        'conflict',
        'reservation_exists',
        `order ${command.orderId} already holds ${held} units, ${command.quantity} requested`,
      );
    }
    if (command.quantity > product.available) {
      return reject(
        'conflict',
        'insufficient_stock',
        `only ${product.available} units available, ${command.quantity} requested`,
      );
    }
    return accept({
      type: 'StockReserved',
      productId: product.productId,
      orderId: command.orderId,
      quantity: command.quantity,
      available: product.available - command.quantity,
    });
  });
}

function releaseReservation(command: ReleaseReservation, state: ProductState): Outcome {
  if (!isText(command.orderId)) return invalidProduct('orderId must not be empty');
  // Allowed when discontinued: compensation must always work.
  return withProduct(command, state, (product) => {
    const held = lookup(product.reservations, command.orderId);
    if (held === undefined) return accept();
    return accept({
      type: 'ReservationReleased',
      productId: product.productId,
      orderId: command.orderId,
      quantity: held,
      available: product.available + held,
    });
  });
}

function commitReservation(command: CommitReservation, state: ProductState): Outcome {
  if (!isText(command.orderId)) return invalidProduct('orderId must not be empty');
  // Allowed when discontinued: orders placed before it still ship.
  return withProduct(command, state, (product) => {
    const held = lookup(product.reservations, command.orderId);
    if (held === undefined) {
      return reject(
        'conflict',
        'reservation_not_found',
        `order ${command.orderId} holds no reservation of product ${product.productId}`,
      );
    }
    return accept({
      type: 'ReservationCommitted',
      productId: product.productId,
      orderId: command.orderId,
      quantity: held,
    });
  });
}

function discontinue(command: DiscontinueProduct, state: ProductState): Outcome {
  return withProduct(command, state, (product) =>
    product.discontinued
      ? reject(
          'conflict',
          'product_discontinued',
          `product ${product.productId} is already discontinued`,
        )
      : accept({ type: 'ProductDiscontinued', productId: product.productId }),
  );
}

function decideProduct(command: ProductCommand, state: ProductState): Outcome {
  if (!isRecord(command)) return invalidProduct('a command must be an object');
  switch (command.type) {
    case 'CreateProduct':
      return createProduct(command, state);
    case 'UpdateProductDetails':
      return updateDetails(command, state);
    case 'ChangePrice':
      return changePrice(command, state);
    case 'RestockProduct':
      return restock(command, state);
    case 'ReserveStock':
      return reserveStock(command, state);
    case 'ReleaseReservation':
      return releaseReservation(command, state);
    case 'CommitReservation':
      return commitReservation(command, state);
    case 'DiscontinueProduct':
      return discontinue(command, state);
    default: {
      const unknown: { type?: unknown } = command;
      return invalidProduct(`unknown product command type ${show(unknown.type)}`);
    }
  }
}

export const productDecider: Decider<ProductCommand, ProductEvent, ProductState> = {
  initialState: initialProductState,
  decide: decideProduct,
  evolve: evolveProduct,
};

/** The aggregate a product command or event belongs to (its partition key). */
export const aggregateId = (message: ProductCommand | ProductEvent): string => message.productId;
