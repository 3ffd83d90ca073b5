import type { Decider, Decision } from '../decider';
import { isRecord, show } from '../validation';
import {
  PRODUCT_COMMANDS,
  type ProductCommand,
  type ProductCommandType,
  type ProductEvent,
  type ProductEventType,
} from './messages';
import { invalidProduct } from './rules';
import { initialProductState, type ProductState } from './state';

/** A module with its types joined: each handles only its own command and event, which the
 *  lookups below guarantee by type name. */
interface Step {
  decide(command: ProductCommand, state: ProductState): Decision<ProductEvent>;
  evolve(state: ProductState, event: ProductEvent): ProductState;
}

const byCommand = new Map<ProductCommandType, Step>(
  PRODUCT_COMMANDS.map((m): [ProductCommandType, Step] => [m.command.name, m]),
);
const byEvent = new Map<ProductEventType, Step>(
  PRODUCT_COMMANDS.map((m): [ProductEventType, Step] => [m.event.name, m]),
);

function decideProduct(command: ProductCommand, state: ProductState): Decision<ProductEvent> {
  if (!isRecord(command)) return invalidProduct('a command must be an object');
  const step = byCommand.get(command.type);
  if (!step) {
    const unknown: { type?: unknown } = command;
    return invalidProduct(`unknown product command type ${show(unknown.type)}`);
  }
  return step.decide(command, state);
}

/** The state after `event`: always a new object, never a mutation of `state`. */
export function evolveProduct(state: ProductState, event: ProductEvent): ProductState {
  return byEvent.get(event.type)?.evolve(state, event) ?? state;
}

export const productDecider: Decider<ProductCommand, ProductEvent, ProductState> = {
  initialState: initialProductState,
  decide: decideProduct,
  evolve: evolveProduct,
};

/** The aggregate a product command or event belongs to (its partition key). */
export const aggregateId = (message: ProductCommand | ProductEvent): string => message.productId;
