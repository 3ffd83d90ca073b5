import { randomUUID } from 'node:crypto';
import { Client, escapeIdentifier, type Pool } from 'pg';
import { loadMigrations, migrate } from '../../infra/migrate';
import type { Redis } from '../../lib/redis';
import type { ShardingRing } from '../../lib/sharding-ring';
import { readModelName, schemaFor } from '../../read-models/postgres/generations';
import { checkpointField, viewsKeys } from '../../read-models/views/keys';

/**
 * Read-side fixtures written straight into the stores, as read-models/README.md specifies the
 * rows and keys (no Kafka, no projector): for testing the query API alone.
 */

export interface ProductFixture {
  productId: string;
  sku?: string;
  name?: string;
  description?: string;
  category: string;
  price: number;
  currency?: string;
  available?: number;
  reserved?: number;
  sold?: number;
  discontinued?: boolean;
  version?: number;
}

export interface OrderFixture {
  orderId: string;
  customerId: string;
  status?: string;
  /** Exact, to the microsecond: `2025-03-01T10:00:00.123456Z`. */
  placedAt: string;
  /** `reserved`: the line's stock_reserved (default: only line 0 is reserved). */
  lines: { productId: string; quantity: number; price: number; reserved?: boolean }[];
  paymentId?: string | null;
  trackingNumber?: string | null;
  cancelReason?: string | null;
  returnReason?: string | null;
  /** Event types of the order's history, in aggregate-version order (1, 2, …). */
  history?: string[];
}

/** Writes rows of generation `generation` into a set of shard databases (leaders or followers). */
export class ReadModelFixture {
  private readonly schema: string;

  constructor(
    readonly pools: readonly Pool[],
    readonly ring: ShardingRing,
    readonly generation: number,
  ) {
    this.schema = escapeIdentifier(schemaFor(generation));
  }

  private pool(shard: number): Pool {
    const pool = this.pools[shard];
    if (!pool) throw new RangeError(`no shard ${shard}`);
    return pool;
  }

  async product(p: ProductFixture): Promise<void> {
    await this.pool(this.ring.shardFor(p.productId)).query(
      `insert into ${this.schema}.products (product_id, sku, name, description, category,
         price_amount, currency, available, reserved, sold, discontinued, version, created_at,
         updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '2025-03-01T09:00:00Z',
         '2025-03-01T09:30:00Z')
       on conflict (product_id) do update set name = excluded.name,
         price_amount = excluded.price_amount, discontinued = excluded.discontinued`,
      [
        p.productId,
        p.sku ?? `SKU-${p.productId}`,
        p.name ?? `Product ${p.productId}`,
        p.description ?? '',
        p.category,
        p.price,
        p.currency ?? 'EUR',
        p.available ?? 10,
        p.reserved ?? 0,
        p.sold ?? 0,
        p.discontinued ?? false,
        p.version ?? 1,
      ],
    );
  }

  async order(o: OrderFixture): Promise<void> {
    const db = this.pool(this.ring.shardFor(o.customerId));
    const history = o.history ?? ['OrderPlaced'];
    const total = o.lines.reduce((sum, l) => sum + l.quantity * l.price, 0);
    await db.query(
      `insert into ${this.schema}.orders (order_id, customer_id, status, total_amount, currency,
         payment_id, tracking_number, cancel_reason, return_reason, version, placed_at,
         updated_at)
       values ($1, $2, $3, $4, 'EUR', $5, $6, $7, $8, $9, $10, $10)`,
      [
        o.orderId,
        o.customerId,
        o.status ?? 'pending',
        total,
        o.paymentId ?? null,
        o.trackingNumber ?? null,
        o.cancelReason ?? null,
        o.returnReason ?? null,
        history.length,
        o.placedAt,
      ],
    );
    for (const [lineNo, line] of o.lines.entries()) {
      await db.query(
        `insert into ${this.schema}.order_lines (order_id, line_no, product_id, quantity,
           unit_price_amount, currency, stock_reserved)
         values ($1, $2, $3, $4, $5, 'EUR', $6)`,
        [
          o.orderId,
          lineNo,
          line.productId,
          line.quantity,
          line.price,
          line.reserved ?? lineNo === 0,
        ],
      );
    }
    // Written newest first, so a reader must sort by aggregate version itself.
    for (const [i, type] of [...history.entries()].reverse()) {
      await db.query(
        `insert into ${this.schema}.order_history (order_id, aggregate_version, event_type,
           event_id, data, occurred_at, topic, partition, "offset")
         values ($1, $2::integer, $3, $4, $5, $6::timestamptz + make_interval(secs => $2::integer),
           'fixture', 0, $2::integer)`,
        [
          o.orderId,
          i + 1,
          type,
          randomUUID(),
          JSON.stringify({ orderId: o.orderId, customerId: o.customerId, step: i + 1 }),
          o.placedAt,
        ],
      );
    }
  }

  /**
   * Changes an order as the projector would for one more event: marks lines reserved and/or
   * sets the status (and cancel reason), and moves `version` on by one. The new version.
   */
  async updateOrder(
    o: Pick<OrderFixture, 'orderId' | 'customerId'>,
    change: { reserveLines?: number[]; status?: string; cancelReason?: string | null },
  ): Promise<number> {
    // One statement, so a reader sees the whole change (with its version) or none of it.
    const { rows } = await this.pool(this.ring.shardFor(o.customerId)).query<{
      version: number;
    }>(
      `with reserved as (
         update ${this.schema}.order_lines set stock_reserved = true
          where order_id = $1 and line_no = any($5::int[]))
       update ${this.schema}.orders
          set status = coalesce($2, status),
              cancel_reason = case when $3::boolean then $4 else cancel_reason end,
              version = version + 1, updated_at = now()
        where order_id = $1
       returning version`,
      [
        o.orderId,
        change.status ?? null,
        change.cancelReason !== undefined,
        change.cancelReason ?? null,
        change.reserveLines ?? [],
      ],
    );
    const version = rows[0]?.version;
    if (version === undefined) throw new Error(`no order ${o.orderId}`);
    return version;
  }

  /** Sets the checkpoint of `topic`/`partition` to `offset` on `shards` (default: all). */
  async checkpoint(
    topic: string,
    partition: number,
    offset: string | number,
    shards: readonly number[] = this.pools.map((_, i) => i),
  ): Promise<void> {
    await Promise.all(
      shards.map((shard) =>
        this.pool(shard).query(
          `insert into public.projection_checkpoints (projection, topic, partition, "offset")
           values ($1, $2, $3, $4)
           on conflict (projection, topic, partition)
             do update set "offset" = excluded."offset", updated_at = now()`,
          [readModelName(this.generation), topic, partition, String(offset)],
        ),
      ),
    );
  }

  /** Sets every partition of every topic to `offset` on `shards` (default: all). */
  async checkpointAll(
    topics: readonly string[],
    partitions: number,
    offset: string | number,
    shards?: readonly number[],
  ): Promise<void> {
    for (const topic of topics) {
      for (let p = 0; p < partitions; p++) await this.checkpoint(topic, p, offset, shards);
    }
  }
}

/** Writes the Redis views of generation `generation` under `keyPrefix`. */
export class ViewsFixture {
  constructor(
    readonly redis: Redis,
    readonly keyPrefix: string,
    readonly generation: number,
  ) {}

  get keys() {
    return viewsKeys(this.keyPrefix, this.generation);
  }

  async product(p: ProductFixture): Promise<void> {
    await this.redis.hset(this.keys.productKey(p.productId), {
      id: p.productId,
      sku: p.sku ?? `SKU-${p.productId}`,
      name: p.name ?? `Product ${p.productId}`,
      description: p.description ?? '',
      category: p.category,
      priceAmount: String(p.price),
      currency: p.currency ?? 'EUR',
      available: String(p.available ?? 10),
      discontinued: String(p.discontinued ?? false),
      version: String(p.version ?? 1),
    });
  }

  async categories(counts: Record<string, number>): Promise<void> {
    await this.redis.hset(
      this.keys.categoriesKey,
      Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, String(v)])),
    );
  }

  async bestseller(productId: string, units: number): Promise<void> {
    await this.redis.zadd(this.keys.bestsellersKey, units, productId);
  }

  async checkpoint(topic: string, partition: number, offset: string | number): Promise<void> {
    await this.redis.hset(
      this.keys.checkpointKey,
      checkpointField(topic, partition),
      String(offset),
    );
  }

  /** Deletes every key of the generation. */
  async drop(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.keys.prefix}*`,
        'COUNT',
        500,
      );
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates (fresh) and migrates databases `names` on the server at `adminUrl`; their URLs. */
export async function createDatabases(
  adminUrl: string,
  names: readonly string[],
): Promise<string[]> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const name of names) {
      await admin.query(`drop database if exists ${escapeIdentifier(name)} with (force)`);
      await admin.query(`create database ${escapeIdentifier(name)}`);
    }
  } finally {
    await admin.end();
  }
  const urls = names.map((name) => withDatabase(adminUrl, name));
  const migrations = loadMigrations();
  for (const url of urls) await migrate(url, migrations);
  return urls;
}

export async function dropDatabases(adminUrl: string, names: readonly string[]): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const name of names) {
      await admin.query(`drop database if exists ${escapeIdentifier(name)} with (force)`);
    }
  } finally {
    await admin.end();
  }
}

/** A key `<prefix>-<n>` that the ring puts on `shard` (the `skip`-th such key). */
export function keyOnShard(ring: ShardingRing, prefix: string, shard: number, skip = 0): string {
  let found = 0;
  for (let i = 0; ; i++) {
    const key = `${prefix}-${i}`;
    if (ring.shardFor(key) === shard && found++ === skip) return key;
  }
}
