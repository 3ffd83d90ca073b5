import { createHash } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { schemaFor } from './generations';
import { READ_MODEL_TABLES, type ReadModelTable } from './schema';

/**
 * Primary key of each table, as [column, kind]. No column is left out of the digest: every
 * value comes from the log (timestamps from the events' occurred-at, never now()), so a live
 * projection and a from-scratch replay of the same log hold identical rows.
 */
const PRIMARY_KEYS: Record<ReadModelTable, [string, 'text' | 'int'][]> = {
  products: [['product_id', 'text']],
  orders: [['order_id', 'text']],
  order_lines: [
    ['order_id', 'text'],
    ['line_no', 'int'],
  ],
  order_history: [
    ['order_id', 'text'],
    ['aggregate_version', 'int'],
  ],
};

export interface TableDigest {
  rows: number;
  /** sha256 (hex) of the table's rows over all shards, in primary-key order. */
  digest: string;
}

type KeyedRow = { key: (string | number)[]; row: string };

/** Orders keys the same on every machine: text by UTF-16 code units (no collation), ints by value. */
function compareKeys(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/** Every table of `schema` on one shard (one connection), each row as JSON with its key. */
async function readShard(
  shardUrl: string,
  schema: string,
): Promise<Record<ReadModelTable, KeyedRow[]>> {
  const client = new Client({ connectionString: shardUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    // Timestamps render in the session's zone: pin it so every run renders them alike.
    await client.query("set time zone 'UTC'");
    // One snapshot for all tables of the shard, even while a projection writes to it.
    await client.query('begin isolation level repeatable read read only');
    const tables = {} as Record<ReadModelTable, KeyedRow[]>;
    for (const table of READ_MODEL_TABLES) {
      const keys = PRIMARY_KEYS[table];
      const { rows } = await client.query<Record<string, unknown>>(
        `select ${keys.map(([c], i) => `t.${escapeIdentifier(c)} as k${i}`).join(', ')},
                row_to_json(t)::text as row
           from ${escapeIdentifier(schema)}.${escapeIdentifier(table)} t`,
      );
      tables[table] = rows.map((r) => ({
        key: keys.map(([, kind], i) => (kind === 'int' ? Number(r[`k${i}`]) : String(r[`k${i}`]))),
        row: String(r.row),
      }));
    }
    await client.query('commit');
    return tables;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Row count and digest of each table of generation `generation`, over all shards. */
export async function tableDigests(
  shardUrls: readonly string[],
  generation: number,
): Promise<Record<ReadModelTable, TableDigest>> {
  const schema = schemaFor(generation);
  const shards = await Promise.all(shardUrls.map((url) => readShard(url, schema)));
  const digests = {} as Record<ReadModelTable, TableDigest>;
  for (const table of READ_MODEL_TABLES) {
    const rows = shards.flatMap((shard) => shard[table]).sort((a, b) => compareKeys(a.key, b.key));
    const hash = createHash('sha256');
    for (const { row } of rows) hash.update(row).update('\n');
    digests[table] = { rows: rows.length, digest: hash.digest('hex') };
  }
  return digests;
}

/**
 * A deterministic digest (sha256, hex) of every row of products, orders, order_lines and
 * order_history of generation `generation` over all shards, ordered by primary key. Equal
 * digests mean equal read models, wherever the rows sit (so it compares leaders with
 * followers, and a live generation with its replay).
 */
export async function checksum(shardUrls: readonly string[], generation: number): Promise<string> {
  const tables = await tableDigests(shardUrls, generation);
  const hash = createHash('sha256');
  for (const table of READ_MODEL_TABLES) {
    hash.update(`${table} ${tables[table].rows} ${tables[table].digest}\n`);
  }
  return hash.digest('hex');
}
