import fs from 'node:fs';
import path from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { databaseOf, pingPostgres } from '../lib/postgres';
import { noAnswer } from '../lib/preflight';
import { redactUrl } from '../lib/redact';
import { loadMigrations, migrate } from './migrate';
import {
  findExecutable,
  isLoopback,
  portTaken,
  runningPid,
  runTool,
  sleep,
  type ToolResult,
  tailOf,
} from './process-control';

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
 * Runs a PostgreSQL tool as the `postgres` OS user when we are root (initdb and postgres
 * refuse to run as root), without blocking the event loop.
 */
function runPostgresTool(tool: string, args: string[]): Promise<ToolResult> {
  return process.getuid?.() === 0
    ? runTool('runuser', ['-u', 'postgres', '--', tool, ...args])
    : runTool(tool, args);
}

function privatePostmasterPid(dataDir: string): number | undefined {
  return runningPid(path.join(dataDir, 'postmaster.pid'), 'postgres');
}

/** The server hosting the shard databases answers, or a private cluster is started for it. */
export async function ensurePostgresServer(
  config: Config,
  say: (line: string) => void,
): Promise<ServerOutcome> {
  const url = config.postgres.adminUrl;
  const where = redactUrl(url);
  const dataDir = privatePostgresDir(config.stateDir);
  const logFile = path.join(dataDir, 'server.log');
  // A refused connection fails at once; the wait only matters for a slow or busy server.
  const why = await noAnswer(pingPostgres(url, 5000));
  if (why === undefined) return privatePostmasterPid(dataDir) ? 'running' : 'external';
  if (privatePostmasterPid(dataDir)) {
    // Our private cluster runs but does not answer yet (still starting?): give it a moment.
    if (await answersWithin(url, 30_000)) return 'running';
    throw new OperatorError(
      `private PostgreSQL in ${dataDir} runs but does not answer at ${where} (POSTGRES_URL): see ${logFile}`,
    );
  }
  const { hostname, port } = new URL(url);
  const initdb = postgresBinary('initdb');
  const pgCtl = postgresBinary('pg_ctl');
  if (!config.startLocalInfra || !isLoopback(hostname) || !initdb || !pgCtl) {
    throw new OperatorError(
      `PostgreSQL not reachable at ${where} (POSTGRES_URL: ${why}): start PostgreSQL there or point POSTGRES_URL at a running server${
        initdb ? '' : ' (no initdb found, so no private cluster could be started)'
      }`,
    );
  }
  const portNumber = Number(port || 5432);
  if (await portTaken(hostname, portNumber)) {
    throw new OperatorError(
      `PostgreSQL not answering at ${where} (POSTGRES_URL: ${why}), and port ${portNumber} is taken by another program, so no private cluster can start there: point POSTGRES_URL at a server that answers, or at a free port`,
    );
  }
  const user = decodeURIComponent(new URL(url).username) || 'postgres';
  fs.mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await runTool('chown', ['-R', 'postgres', dataDir]);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const init = await runPostgresTool(initdb, [
      '-D',
      dataDir,
      '-U',
      user,
      '-A',
      'trust',
      '--no-sync',
    ]);
    if (!init.ok)
      throw new OperatorError(`initdb in ${dataDir} failed: ${init.output.split('\n').pop()}`);
  }
  const options = `-p ${portNumber} -k ${dataDir} -c listen_addresses=${hostname}`;
  const start = await runPostgresTool(pgCtl, [
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
    throw new OperatorError(
      `private PostgreSQL in ${dataDir} did not start (${tailOf(logFile, 1) || start.output.split('\n').pop()}): see ${logFile}`,
    );
  }
  // Started means: its postmaster is alive and it answers at POSTGRES_URL.
  if (privatePostmasterPid(dataDir) && (await answersWithin(url, 10_000))) {
    say(`postgres: started a private cluster in ${dataDir} at ${where}`);
    return 'started';
  }
  throw new OperatorError(
    `private PostgreSQL in ${dataDir} ${privatePostmasterPid(dataDir) ? 'started but does not answer' : 'exited'} at ${where}: see ${logFile}`,
  );
}

async function answersWithin(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await noAnswer(pingPostgres(url, 1000))) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await sleep(200);
  }
}

/** Stops the private cluster `infra up` started, if it runs. */
export async function stopPrivatePostgres(stateDir: string): Promise<boolean> {
  const dataDir = privatePostgresDir(stateDir);
  if (privatePostmasterPid(dataDir) === undefined) return false;
  const pgCtl = postgresBinary('pg_ctl');
  if (!pgCtl) return false;
  await runPostgresTool(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
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
