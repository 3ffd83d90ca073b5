import type { Rejection } from '../decider';
import { isText } from '../validation';
import type { ProductCommand, ProductEvent } from './messages';
import type { ProductState } from './state';

/*
 * A SKU names one live product: a new product may not take a SKU that a live product holds,
 * and a discontinued product frees its SKU for a new one. The rule spans products, so no one
 * product's decide can check it; whoever decides CreateProduct must see every product holding
 * the SKU. These pure functions state the rule; the command processor applies it (it puts a new
 * product in its SKU's partition, whose single owner keeps the holders, see command-api).
 * SKUs are compared exactly as written.
 */

/** The SKU a command claims: a new product's. */
export function skuClaimedBy(command: ProductCommand): string | undefined {
  return command.type === 'CreateProduct' && isText(command.sku) ? command.sku : undefined;
}

/** A product taking (`held`) or freeing its SKU. */
export interface SkuHolding {
  sku: string;
  productId: string;
  held: boolean;
}

/**
 * How `event` changes who holds a SKU: ProductCreated takes the product's SKU,
 * ProductDiscontinued frees it. `before` is the product's state before the event.
 */
export function skuHoldingChange(
  event: ProductEvent,
  before: ProductState,
): SkuHolding | undefined {
  if (event.type === 'ProductCreated') {
    return { sku: event.sku, productId: event.productId, held: true };
  }
  if (event.type === 'ProductDiscontinued' && before.exists && !before.discontinued) {
    return { sku: before.sku, productId: before.productId, held: false };
  }
  return undefined;
}

/**
 * `sku_taken` (conflict) when a live product other than `productId` holds `sku` (`holders`:
 * the live products holding it); undefined when the product may take it.
 */
export function skuTaken(
  sku: string,
  productId: string,
  holders: readonly string[],
): Rejection | undefined {
  const others = holders.filter((id) => id !== productId);
  if (others.length === 0) return undefined;
  return {
    kind: 'conflict',
    code: 'sku_taken',
    reason: `sku ${sku} already names product ${others.join(', ')}; discontinue it to reuse the sku`,
  };
}
