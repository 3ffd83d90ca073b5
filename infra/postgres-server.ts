import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { databaseOf, pingPostgres } from '../lib/postgres';
import { redactUrl } from '../lib/redact';
import { loadMigrations, migrate } from './migrate';
import { findExecutable, isLoopback, runningPid, sleep } from './process-control';

export type ServerOutcome = 'started' | 'running' | 'external';

export function privatePostgresDir(stateDir: string): string {
  return path.join(stateDir, 'postgres');
}

function postgresBinary(name: string): string | undefined {
  const versions = fs.existsSync('/usr/lib/postgresql')
    ? fs.readdirSync('/usr/lib/postgresql').sort().reverse()
    : [];
  return findExecutable(
    name,
    versions.map((v) => `/usr/lib/postgresql/${v}/bin`),
  );
}

/**
 * Runs a PostgreSQL tool as the `postgres` OS user when we are root: initdb and postgres
 * refuse to run as root.
 */
function runPostgresTool(tool: string, args: string[]): { ok: boolean; output: string } {
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', tool, ...args], { encoding: 'utf8' })
    : spawnSync(tool, args, { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/** The server hosting the shard databases answers, or a private cluster is started for it. */
export async function ensurePostgresServer(
  config: Config,
  say: (line: string) => void,
): Promise<ServerOutcome> {
  const url = config.postgres.adminUrl;
  const where = redactUrl(url);
  const dataDir = privatePostgresDir(config.stateDir);
  const ours = () => runningPid(path.join(dataDir, 'postmaster.pid'), 'postgres') !== undefined;
  try {
    await pingPostgres(url, 3000);
    return ours() ? 'running' : 'external';
  } catch {
    // not answering: maybe start a private cluster below
  }
  const { hostname, port } = new URL(url);
  const initdb = postgresBinary('initdb');
  const pgCtl = postgresBinary('pg_ctl');
  if (!config.startLocalInfra || !isLoopback(hostname) || !initdb || !pgCtl) {
    throw new OperatorError(
      `PostgreSQL not reachable at ${where} (POSTGRES_URL): start PostgreSQL there or point POSTGRES_URL at a running server${
        initdb ? '' : ' (no initdb found, so no private cluster could be started)'
      }`,
    );
  }
  const user = decodeURIComponent(new URL(url).username) || 'postgres';
  fs.mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres', dataDir]);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const init = runPostgresTool(initdb, ['-D', dataDir, '-U', user, '-A', 'trust', '--no-sync']);
    if (!init.ok)
      throw new OperatorError(`initdb in ${dataDir} failed: ${init.output.split('\n').pop()}`);
  }
  const logFile = path.join(dataDir, 'server.log');
  const options = `-p ${port || 5432} -k ${dataDir} -c listen_addresses=${hostname}`;
  const start = runPostgresTool(pgCtl, [
    '-D',
    dataDir,
    '-l',
    logFile,
    '-o',
    options,
    '-w',
    'start',
  ]);
  if (!start.ok) {
    throw new OperatorError(`private PostgreSQL in ${dataDir} did not start: see ${logFile}`);
  }
  for (let i = 0; i < 50; i++) {
    try {
      await pingPostgres(url, 1000);
      say(`postgres: started a private cluster in ${dataDir} at ${where}`);
      return 'started';
    } catch {
      await sleep(200);
    }
  }
  throw new OperatorError(
    `private PostgreSQL in ${dataDir} started but does not answer at ${where}`,
  );
}

/** Stops the private cluster `infra up` started, if it runs. */
export function stopPrivatePostgres(stateDir: string): boolean {
  const dataDir = privatePostgresDir(stateDir);
  if (runningPid(path.join(dataDir, 'postmaster.pid'), 'postgres') === undefined) return false;
  const pgCtl = postgresBinary('pg_ctl');
  if (!pgCtl) return false;
  runPostgresTool(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  return true;
}

function serverUrlOf(shardUrl: string): string {
  const u = new URL(shardUrl);
  u.pathname = '/postgres';
  return u.toString();
}

/** Creates every shard database that is missing and applies the read-model migrations. */
export async function ensureShardDatabases(
  config: Config,
): Promise<{ created: string[]; migrated: string[] }> {
  const migrations = loadMigrations();
  const created: string[] = [];
  const migrated: string[] = [];
  for (const shardUrl of config.postgres.shardUrls) {
    const database = databaseOf(shardUrl);
    const admin = new Client({
      connectionString: serverUrlOf(shardUrl),
      connectionTimeoutMillis: 5000,
    });
    try {
      await admin.connect();
    } catch (err) {
      throw new OperatorError(
        `PostgreSQL not reachable at ${redactUrl(serverUrlOf(shardUrl))} for shard ${database}: ${(err as Error).message}`,
      );
    }
    try {
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [
        database,
      ]);
      if (rowCount === 0) {
        try {
          await admin.query(`create database ${escapeIdentifier(database)}`);
          created.push(database);
        } catch (err) {
          // Another `infra up` created it first.
          if ((err as { code?: string }).code !== '42P04') throw err;
        }
      }
    } finally {
      await admin.end();
    }
    if ((await migrate(shardUrl, migrations)).length > 0) migrated.push(database);
  }
  return { created, migrated };
}

/** For each shard: does its database exist, and has it every migration? */
export async function shardStatus(config: Config): Promise<{ database: string; state: string }[]> {
  const ids = loadMigrations().map((m) => m.id);
  return Promise.all(
    config.postgres.shardUrls.map(async (shardUrl) => {
      const database = databaseOf(shardUrl);
      const client = new Client({ connectionString: shardUrl, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        const { rows } = await client.query<{ id: string }>('select id from schema_migrations');
        const have = new Set(rows.map((r) => r.id));
        const missing = ids.filter((id) => !have.has(id));
        return {
          database,
          state: missing.length === 0 ? 'migrated' : `${missing.length} migrations pending`,
        };
      } catch (err) {
        const code = (err as { code?: string }).code;
        return {
          database,
          state: code === '3D000' ? 'missing' : code === '42P01' ? 'not migrated' : 'unreachable',
        };
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );
}
