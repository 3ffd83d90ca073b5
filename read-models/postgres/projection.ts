import { createHash } from 'node:crypto';
import { escapeIdentifier } from 'pg';
import { OrdersProjection } from '../orders/projection';
import { ProductsProjection } from '../products/projection';
import type { ProjectedEvent } from '../projected-event';
import { schemaFor } from './generations';
import { type PlannedEvent, pgParam } from './statement';

/**
 * The SQL of one generation's schema: the products and orders read models' projections, each
 * statement named once per distinct text. Build once per target.
 */
export class ReadModelStatements {
  readonly schema: string;
  private readonly products: ProductsProjection;
  private readonly orders: OrdersProjection;
  /** Statement text → prepared-statement name. */
  private readonly names = new Map<string, string>();

  constructor(generation: number) {
    this.schema = schemaFor(generation);
    const s = escapeIdentifier(this.schema);
    this.products = new ProductsProjection(`${s}.products`);
    this.orders = new OrdersProjection(s);
  }

  /**
   * The statement that applies `event`; undefined when every module ignores its type. Throws
   * ModelViolation for a type no module knows.
   */
  plan(event: ProjectedEvent): PlannedEvent | undefined {
    const planned = this.products.statementFor(event) ?? this.orders.statementFor(event);
    if (planned === undefined) return undefined;
    let name = this.names.get(planned.text);
    if (name === undefined) {
      name = `read_model_${createHash('sha1').update(planned.text).digest('hex').slice(0, 20)}`;
      this.names.set(planned.text, name);
    }
    return { ...planned, values: planned.values.map(pgParam), name };
  }
}
