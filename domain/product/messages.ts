import type { CommandOf, EventOf } from '../message';
import { changePrice } from './commands/change-price';
import { commitReservation } from './commands/commit-reservation';
import { createProduct } from './commands/create-product';
import { discontinueProduct } from './commands/discontinue-product';
import { releaseReservation } from './commands/release-reservation';
import { reserveStock } from './commands/reserve-stock';
import { restockProduct } from './commands/restock-product';
import { setPurchaseLimit } from './commands/set-purchase-limit';
import { updateProductDetails } from './commands/update-product-details';

export type { ChangePrice, ProductPriceChanged } from './commands/change-price';
export type { CommitReservation, ReservationCommitted } from './commands/commit-reservation';
export type { CreateProduct, ProductCreated } from './commands/create-product';
export type { DiscontinueProduct, ProductDiscontinued } from './commands/discontinue-product';
export type { ReleaseReservation, ReservationReleased } from './commands/release-reservation';
export type { ReserveStock, StockReserved } from './commands/reserve-stock';
export type { ProductRestocked, RestockProduct } from './commands/restock-product';
export type { ProductPurchaseLimitSet, SetPurchaseLimit } from './commands/set-purchase-limit';
export type {
  ProductDetailsUpdated,
  UpdateProductDetails,
} from './commands/update-product-details';

/**
 * Every product command with its event, one module each (domain/README.md, "How to add a
 * command"). Everything else is derived from this list: the unions and type lists below, the
 * decider's dispatch (decider.ts), the schema registry and the codec's samples (schemas/).
 */
export const PRODUCT_COMMANDS = [
  createProduct,
  updateProductDetails,
  changePrice,
  restockProduct,
  reserveStock,
  releaseReservation,
  commitReservation,
  discontinueProduct,
  setPurchaseLimit,
] as const;

type Module = (typeof PRODUCT_COMMANDS)[number];

export type ProductCommand = CommandOf<Module['command']>;
export type ProductEvent = EventOf<Module['event']>;
export type ProductCommandType = ProductCommand['type'];
export type ProductEventType = ProductEvent['type'];

export const PRODUCT_COMMAND_TYPES: readonly ProductCommandType[] = PRODUCT_COMMANDS.map(
  (m) => m.command.name,
);
export const PRODUCT_EVENT_TYPES: readonly ProductEventType[] = PRODUCT_COMMANDS.map(
  (m) => m.event.name,
);
