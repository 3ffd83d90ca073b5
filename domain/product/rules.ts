import { type Decision, reject } from '../decider';
import type { CommandOf, EventOf, MessageSchema } from '../message';
import { isText, MAX_COUNT, show } from '../validation';
import type { Product, ProductState } from './state';

/**
 * One product command with its event, declared once (domain/README.md, "How to add a
 * command"): the fields of both (their TypeScript types and Avro schemas come from them), how
 * the command is decided, how its event changes the state, and samples for the codec's
 * round-trip tests. `messages.ts` lists every module; the unions, type lists, the decider's
 * dispatch and the schema registry are derived from that list.
 */
export interface ProductCommandModule<C extends MessageSchema, E extends MessageSchema> {
  readonly command: C;
  readonly event: E;
  /** The events the command produces (only its own event: none or one), or a Rejection. */
  decide(command: CommandOf<C>, state: ProductState): Decision<EventOf<E>>;
  evolve(state: ProductState, event: EventOf<E>): ProductState;
  /** At least one of each; the codec and catalogue tests round-trip every one. */
  readonly samples: { commands: readonly CommandOf<C>[]; events: readonly EventOf<E>[] };
}

export const productCommand = <C extends MessageSchema, E extends MessageSchema>(
  command: C,
  event: E,
  behaviour: Omit<ProductCommandModule<C, E>, 'command' | 'event'>,
): ProductCommandModule<C, E> => ({ command, event, ...behaviour });

/** An evolve step for an existing product: only ProductCreated begins a stream, anything else
 *  before it is ignored. Always a new object, never a mutation of `state`. */
export const onProduct =
  <E>(step: (product: Product, event: E) => Product) =>
  (state: ProductState, event: E): ProductState =>
    state.exists ? step(state, event) : state;

// Checks run in a fixed order: the command's own values (invalid), then existence
// (not_found / exists), then the rules of the current state (conflict).

export const invalidProduct = (reason: string): Decision<never> =>
  reject('invalid', 'invalid_product', reason);

export const invalidQuantity = (quantity: unknown): Decision<never> =>
  reject(
    'invalid',
    'invalid_quantity',
    `quantity must be a whole number from 1 to ${MAX_COUNT}, got ${show(quantity)}`,
  );

export const discontinued = (product: Product): Decision<never> =>
  reject('conflict', 'product_discontinued', `product ${product.productId} is discontinued`);

/** The first required text field that is empty, as a reason, or null. */
export function textProblem(fields: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(fields)) {
    if (!isText(value)) return `${name} must not be empty`;
  }
  return null;
}

/** Runs `then` on an existing product, else the not-found rejection. */
export function withProduct<E>(
  command: { productId: string },
  state: ProductState,
  then: (product: Product) => Decision<E>,
): Decision<E> {
  if (!isText(command.productId)) return invalidProduct('productId must not be empty');
  return state.exists
    ? then(state)
    : reject('not_found', 'product_not_found', `product ${command.productId} does not exist`);
}

/**
 * Runs `then` on an existing product with the units it holds for the command's order
 * (undefined: none). `invalid` is the refusal of the command's other values, if any: checked
 * after its orderId, before the product.
 */
export function withReservation<E>(
  command: { productId: string; orderId: string },
  state: ProductState,
  then: (product: Product, held: number | undefined) => Decision<E>,
  invalid?: Decision<never>,
): Decision<E> {
  if (!isText(command.orderId)) return invalidProduct('orderId must not be empty');
  if (invalid) return invalid;
  return withProduct(command, state, (product) =>
    then(product, product.reservations.get(command.orderId)),
  );
}

/** Ids and money for the modules' samples (realistic values, as on the topics). */
export const SAMPLE = {
  productId: 'prod-0193c0de-7a1b-7c2d-8e3f-4a5b6c7d8e9f',
  orderId: 'ord-0193c0df-1111-7222-8333-444455556666',
  eur: (amount: number) => ({ amount, currency: 'EUR' }),
} as const;
