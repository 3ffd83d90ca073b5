import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

export const READ_MODEL_MIGRATIONS = path.join(__dirname, 'migrations');

export interface Migration {
  id: string;
  sql: string;
}

const FILE_NAME = /^(\d{3,})_[a-z0-9_]+\.sql$/;

/** The `NNN_name.sql` files of `dir`, in order. Any other file there is a mistake, so it throws. */
export function loadMigrations(dir: string = READ_MODEL_MIGRATIONS): Migration[] {
  const files = fs.readdirSync(dir).sort();
  const stray = files.filter((f) => !FILE_NAME.test(f));
  if (stray.length > 0) {
    throw new Error(`${dir}: not a migration file name (NNN_name.sql): ${stray.join(', ')}`);
  }
  return files.map((f) => ({
    id: f.replace(/\.sql$/, ''),
    sql: fs.readFileSync(path.join(dir, f), 'utf8'),
  }));
}

/**
 * Applies the migrations a database has not seen, all in one transaction (so a failing one
 * leaves nothing half-done) under an advisory lock (so concurrent runs apply each once).
 * Returns the ids it applied.
 */
export async function migrate(databaseUrl: string, migrations: Migration[]): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query("select pg_advisory_xact_lock(hashtext('orderstream.schema_migrations'))");
    await client.query(
      'create table if not exists schema_migrations (id text primary key, applied_at timestamptz not null default now())',
    );
    const { rows } = await client.query<{ id: string }>('select id from schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      try {
        await client.query(migration.sql);
      } catch (err) {
        throw new Error(`migration ${migration.id} failed: ${(err as Error).message}`);
      }
      await client.query('insert into schema_migrations (id) values ($1)', [migration.id]);
      applied.push(migration.id);
    }
    await client.query('commit');
    return applied;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
