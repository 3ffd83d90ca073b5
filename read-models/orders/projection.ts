import { hasTypeIn, PRODUCT_EVENT_TYPES } from '../../domain';
import { dataJson, type Statement } from '../postgres/statement';
import { type ProjectedEvent, type ProjectedOf, unknownEvent } from '../projected-event';

/** The event types this projection leaves alone: every product event. */
export const ORDERS_IGNORE = PRODUCT_EVENT_TYPES;

type OrderChange = Exclude<ProjectedEvent, ProjectedOf<(typeof ORDERS_IGNORE)[number]>>;

/**
 * How order events change `orders`, `order_lines` and `order_history` (read-models/README.md,
 * "How events change rows"): one parameterised statement per event, guarded by the aggregate
 * version (`version < $v`); every order event adds its `order_history` row. Rows sit on the
 * shard of the order's customer.
 */
export class OrdersProjection {
  private readonly orders: string;
  private readonly lines: string;
  private readonly history: string;

  /** `schema` is the escaped generation schema. */
  constructor(schema: string) {
    this.orders = `${schema}.orders`;
    this.lines = `${schema}.order_lines`;
    this.history = `${schema}.order_history`;
  }

  /** The statement that applies `event`; undefined for the types this projection ignores. */
  statementFor(event: ProjectedEvent): Statement | undefined {
    if (hasTypeIn(ORDERS_IGNORE, event)) return undefined;
    switch (event.type) {
      case 'OrderPlaced':
        return this.orderPlaced(event);
      case 'OrderStockReserved':
        return this.orderStockReserved(event);
      case 'OrderStockRejected':
        return this.orderUpdate(event, '', []);
      case 'OrderPaymentAuthorized':
        return this.orderUpdate(event, 'payment_id = $11', [event.data.paymentId]);
      case 'OrderPaymentFailed':
        // The latest word on payment wins (domain/README.md): a failure withdraws the authorization.
        return this.orderUpdate(event, 'payment_id = null', []);
      case 'OrderConfirmed':
        // v2 carries the payment that confirmed the order; without one, the authorized stays.
        return this.orderUpdate(
          event,
          "status = 'confirmed', payment_id = coalesce($11, payment_id)",
          [event.data.paymentId ?? null],
        );
      case 'OrderShipped':
        return this.orderUpdate(event, "status = 'shipped', tracking_number = $11", [
          event.data.trackingNumber,
        ]);
      case 'OrderDelivered':
        return this.orderUpdate(event, "status = 'delivered'", []);
      case 'OrderCancelled':
        return this.orderUpdate(event, "status = 'cancelled', cancel_reason = $11", [
          event.data.reason,
        ]);
      case 'OrderReturned':
        return this.orderUpdate(event, "status = 'returned', return_reason = $11", [
          event.data.reason,
        ]);
      default:
        return unknownEvent('read model', event);
    }
  }

  /**
   * $1 order id, $2 customer id, $3 version, $4 occurred-at, $5 type, $6 event id, $7 data,
   * $8 topic, $9 partition, $10 offset — the order_history row's values.
   */
  private orderParams({ type, data, meta, topic, partition, offset }: OrderChange) {
    const { orderId, customerId } = data;
    const values = [
      orderId,
      customerId,
      meta.aggregateVersion,
      meta.occurredAt,
      type,
      meta.eventId,
      dataJson(data),
      topic,
      partition,
      offset,
    ];
    return { orderId, customerId, values };
  }

  private historyInsert(from: string): string {
    return `insert into ${this.history} (order_id, aggregate_version, event_type, event_id, data,
               occurred_at, topic, partition, "offset")
             select order_id, $3::integer, $5::text, $6::text, $7::jsonb, $4::timestamptz, $8::text,
                    $9::integer, $10::bigint
               from ${from}
             returning 1`;
  }

  private orderPlaced(event: ProjectedOf<'OrderPlaced'>): Statement {
    const { customerId, values } = this.orderParams(event);
    const { total, lines: ls } = event.data;
    return {
      route: 'customer',
      routeKey: customerId,
      text: `with placed as (
               insert into ${this.orders} (order_id, customer_id, status, total_amount, currency,
                 version, placed_at, updated_at)
               values ($1, $2, 'pending', $11, $12, $3, $4, $4)
               returning order_id
             ), placed_lines as (
               insert into ${this.lines} (order_id, line_no, product_id, quantity,
                 unit_price_amount, currency)
               select placed.order_id, l.ord - 1, l.product_id, l.quantity, l.amount, l.currency
                 from placed,
                      unnest($13::text[], $14::integer[], $15::bigint[], $16::text[])
                        with ordinality as l (product_id, quantity, amount, currency, ord)
             )
             ${this.historyInsert('placed')}`,
      values: [
        ...values,
        total.amount,
        total.currency,
        ls.map((l) => l.productId),
        ls.map((l) => l.quantity),
        ls.map((l) => l.unitPrice.amount),
        ls.map((l) => l.unitPrice.currency),
      ],
      mustAffect: 'the order was not inserted',
    };
  }

  private orderStockReserved(event: ProjectedOf<'OrderStockReserved'>): Statement {
    const { orderId, customerId, values } = this.orderParams(event);
    const { productId } = event.data;
    return {
      route: 'customer',
      routeKey: customerId,
      text: `with line as (
               update ${this.lines} set stock_reserved = true
                where order_id = $1 and product_id = $11
               returning order_id
             ), changed as (
               update ${this.orders} set version = $3, updated_at = $4
                where order_id = $1 and customer_id = $2 and version < $3
                  and exists (select 1 from line)
               returning order_id
             )
             ${this.historyInsert('changed')}`,
      values: [...values, productId],
      mustAffect: `no order ${orderId} of customer ${customerId} below version ${values[2]} with a line for product ${productId}`,
    };
  }

  /** Sets `assignments` ($11… the event's own values) plus version and updated_at; adds history. */
  private orderUpdate(event: OrderChange, assignments: string, extra: unknown[]): Statement {
    const { orderId, customerId, values } = this.orderParams(event);
    const set = assignments === '' ? '' : `${assignments}, `;
    return {
      route: 'customer',
      routeKey: customerId,
      text: `with changed as (
               update ${this.orders} set ${set}version = $3, updated_at = $4
                where order_id = $1 and customer_id = $2 and version < $3
               returning order_id
             )
             ${this.historyInsert('changed')}`,
      values: [...values, ...extra],
      mustAffect: `no order ${orderId} of customer ${customerId} below version ${values[2]}`,
    };
  }
}
