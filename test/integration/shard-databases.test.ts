import { Client, escapeIdentifier } from 'pg';
import { loadMigrations, migrate } from '../../infra/migrate';
import { databaseOf } from '../../lib/postgres';
import { runConfig, runId } from '../support/test-env';

describe('read-model shard databases', () => {
  const config = runConfig();

  it('exist on the server, one per configured shard, under this run’s prefix', async () => {
    const client = new Client({ connectionString: config.postgres.adminUrl });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      "select datname from pg_database where datname like $1 || '\\_shard\\_%' order by datname",
      [`ostest_${runId()}`],
    );
    await client.end();
    expect(config.postgres.shardUrls).toHaveLength(4);
    expect(rows.map((r) => r.datname)).toEqual(config.postgres.shardUrls.map(databaseOf));
  });

  it.each([0, 1, 2, 3])('shard %i has every migration and the checkpoint table', async (shard) => {
    const client = new Client({ connectionString: config.postgres.shardUrls[shard] });
    await client.connect();
    try {
      const applied = await client.query<{ id: string }>(
        'select id from schema_migrations order by id',
      );
      expect(applied.rows.map((r) => r.id)).toEqual(loadMigrations().map((m) => m.id));
      const columns = await client.query<{ column_name: string }>(
        "select column_name from information_schema.columns where table_name = 'projection_checkpoints' order by ordinal_position",
      );
      expect(columns.rows.map((r) => r.column_name)).toEqual([
        'projection',
        'topic',
        'partition',
        'offset',
        'updated_at',
      ]);
    } finally {
      await client.end();
    }
  });
});

describe('migration runner', () => {
  const config = runConfig();
  const scratch = `ostest_${runId()}_migrations`;
  const url = (() => {
    const u = new URL(config.postgres.adminUrl);
    u.pathname = `/${scratch}`;
    return u.toString();
  })();
  const admin = new Client({ connectionString: config.postgres.adminUrl });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create database ${escapeIdentifier(scratch)}`);
  });
  afterAll(async () => {
    await admin.query(`drop database if exists ${escapeIdentifier(scratch)} with (force)`);
    await admin.end();
  });

  async function tables(): Promise<string[]> {
    const c = new Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query<{ tablename: string }>(
      "select tablename from pg_tables where schemaname = 'public' order by tablename",
    );
    await c.end();
    return rows.map((r) => r.tablename);
  }

  it('applies pending migrations once, in order, even when runs race', async () => {
    const migrations = [
      { id: '001_a', sql: 'create table a (id int primary key)' },
      { id: '002_b', sql: 'create table b (id int references a(id))' },
    ];
    const results = await Promise.all([
      migrate(url, migrations),
      migrate(url, migrations),
      migrate(url, migrations),
    ]);
    expect(results.flat().sort()).toEqual(['001_a', '002_b']);
    expect(await migrate(url, migrations)).toEqual([]);
    expect(await tables()).toEqual(['a', 'b', 'schema_migrations']);
  });

  it('rolls back every migration of a run when one fails', async () => {
    const migrations = [
      { id: '001_a', sql: 'create table a (id int primary key)' },
      { id: '002_b', sql: 'create table b (id int references a(id))' },
      { id: '003_c', sql: 'create table c (id int)' },
      { id: '004_broken', sql: 'create table d (id int references nowhere(id))' },
    ];
    await expect(migrate(url, migrations)).rejects.toThrow(/migration 004_broken failed/);
    expect(await tables()).toEqual(['a', 'b', 'schema_migrations']);
  });
});
