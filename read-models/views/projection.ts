import { type DomainEventType, hasTypeIn } from '../../domain';
import { type ProjectedEvent, unknownEvent } from '../projected-event';

/** The event types the views leave alone (none today: every event updates a card or an order). */
export const VIEWS_IGNORE = [] as const satisfies readonly DomainEventType[];

/** What apply-script.ts applies for one event: its aggregate's key space, fields and times. */
export interface ViewsChange {
  aggregate: 'product' | 'order';
  type: DomainEventType;
  offset: string;
  data: object;
  /** ISO-8601 in UTC, so `updatedAt` values compare as text. */
  occurredAt: string;
  occurredAtMs: number;
  version: number;
}

function change(aggregate: ViewsChange['aggregate'], event: ProjectedEvent): ViewsChange {
  const at = Date.parse(event.meta.occurredAt);
  return {
    aggregate,
    type: event.type,
    offset: event.offset,
    data: event.data,
    occurredAt: new Date(at).toISOString(),
    occurredAtMs: at,
    version: event.meta.aggregateVersion,
  };
}

/**
 * The `views` projection (read-models/README.md, "Redis views"): which change each event makes,
 * in the Lua script's terms (apply-script.ts writes the keys); undefined for the types the views
 * ignore. A new event type does not compile here until it is handled or ignored.
 */
export function viewsChange(event: ProjectedEvent): ViewsChange | undefined {
  if (hasTypeIn(VIEWS_IGNORE, event)) return undefined;
  switch (event.type) {
    case 'ProductCreated':
    case 'ProductDetailsUpdated':
    case 'ProductPriceChanged':
    case 'ProductRestocked':
    case 'StockReserved':
    case 'ReservationReleased':
    case 'ReservationCommitted':
    case 'ProductDiscontinued':
    case 'ProductPurchaseLimitSet':
      return change('product', event);
    case 'OrderPlaced':
    case 'OrderStockReserved':
    case 'OrderStockRejected':
    case 'OrderPaymentAuthorized':
    case 'OrderPaymentFailed':
    case 'OrderConfirmed':
    case 'OrderShipped':
    case 'OrderDelivered':
    case 'OrderCancelled':
    case 'OrderReturned':
      return change('order', event);
    default:
      return unknownEvent('views', event);
  }
}
