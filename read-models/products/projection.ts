import { hasTypeIn, ORDER_EVENT_TYPES } from '../../domain';
import type { Statement } from '../postgres/statement';
import { type ProjectedEvent, type ProjectedOf, unknownEvent } from '../projected-event';

/** The event types this projection leaves alone: every order event. */
export const PRODUCTS_IGNORE = ORDER_EVENT_TYPES;

type ProductUpdate = Exclude<ProjectedEvent, ProjectedOf<(typeof PRODUCTS_IGNORE)[number]>>;

/**
 * How product events change `products` (read-models/README.md, "How events change rows"): one
 * parameterised statement per event, guarded by the aggregate version (`version < $v`), so an
 * event never lands twice even if the log held it twice. Rows sit on the shard of the product.
 */
export class ProductsProjection {
  /** `products` is the escaped, schema-qualified table name. */
  constructor(private readonly products: string) {}

  /** The statement that applies `event`; undefined for the types this projection ignores. */
  statementFor(event: ProjectedEvent): Statement | undefined {
    if (hasTypeIn(PRODUCTS_IGNORE, event)) return undefined;
    switch (event.type) {
      case 'ProductCreated':
        return this.productCreated(event);
      case 'ProductDetailsUpdated':
        return this.productUpdate(event, 'name = $4, description = $5, category = $6', [
          event.data.name,
          event.data.description,
          event.data.category,
        ]);
      case 'ProductPriceChanged':
        return this.productUpdate(event, 'price_amount = $4, currency = $5', [
          event.data.price.amount,
          event.data.price.currency,
        ]);
      case 'ProductRestocked':
        return this.productUpdate(event, 'available = $4', [event.data.available]);
      case 'StockReserved':
        return this.productUpdate(event, 'available = $4, reserved = reserved + $5', [
          event.data.available,
          event.data.quantity,
        ]);
      case 'ReservationReleased':
        return this.productUpdate(event, 'available = $4, reserved = reserved - $5', [
          event.data.available,
          event.data.quantity,
        ]);
      case 'ReservationCommitted':
        return this.productUpdate(event, 'reserved = reserved - $4, sold = sold + $4', [
          event.data.quantity,
        ]);
      case 'ProductDiscontinued':
        return this.productUpdate(event, 'discontinued = true', []);
      // Not shown here: the product's version moves on, nothing else.
      case 'ProductPurchaseLimitSet':
        return this.productUpdate(event, '', []);
      default:
        return unknownEvent('read model', event);
    }
  }

  private productCreated(event: ProjectedOf<'ProductCreated'>): Statement {
    const { data, meta } = event;
    return {
      route: 'product',
      routeKey: data.productId,
      text: `insert into ${this.products} (product_id, sku, name, description, category,
               price_amount, currency, available, reserved, sold, discontinued, version,
               created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, false, $9, $10, $10)`,
      values: [
        data.productId,
        data.sku,
        data.name,
        data.description,
        data.category,
        data.price.amount,
        data.price.currency,
        data.initialStock,
        meta.aggregateVersion,
        meta.occurredAt,
      ],
    };
  }

  /** $1 product id, $2 version, $3 occurred-at, $4… the event's own values. */
  private productUpdate(event: ProductUpdate, assignments: string, values: unknown[]): Statement {
    const { productId } = event.data;
    const v = event.meta.aggregateVersion;
    return {
      route: 'product',
      routeKey: productId,
      text: `update ${this.products}
                set ${assignments && `${assignments}, `}version = $2, updated_at = $3
              where product_id = $1 and version < $2`,
      values: [productId, v, event.meta.occurredAt, ...values],
      mustAffect: `no product ${productId} below version ${v}`,
    };
  }
}
