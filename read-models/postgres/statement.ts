import { toPgJson, toPgText } from '../../lib/postgres-text';

/**
 * What the Postgres read models' projections (products/, orders/) plan for each event: one
 * parameterised statement, guarded by the aggregate version (`version < $v`), so an event never
 * lands twice even if the log held it twice. Text is stored as lib/postgres-text.ts encodes it:
 * an event holding NUL is stored, not set aside, so the read model never disagrees with the log.
 * Fields are not checked again: the codec checked them against the event's Avro schema.
 */

export { ModelViolation } from '../projected-event';

/** Which key routes an event to its shard: product events by product, order events by customer. */
export type RouteKind = 'product' | 'customer';

export interface PlannedEvent {
  route: RouteKind;
  /** The key to hash on the ring (productId or customerId). */
  routeKey: string;
  /** Prepared-statement name (one per distinct text), so each connection plans it once. */
  name: string;
  text: string;
  values: unknown[];
  /** When set, the statement must change (or return) a row; if it does not, this is why. */
  mustAffect?: string;
}

/** A planned event before it is named. */
export type Statement = Omit<PlannedEvent, 'name'>;

/** Event data as JSON for `order_history.data`; bigints (never expected) as decimal strings. */
export function dataJson(data: object): string {
  return JSON.stringify(toPgJson(data), (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

/** A statement parameter as Postgres can hold it: text (in arrays too) encoded. */
export function pgParam(value: unknown): unknown {
  if (typeof value === 'string') return toPgText(value);
  return Array.isArray(value) ? value.map(pgParam) : value;
}
