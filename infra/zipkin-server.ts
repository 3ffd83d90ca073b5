import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { REPO_ROOT } from '../lib/repo-root';
import { java } from './kafka-broker';
import type { ServerOutcome } from './postgres-server';
import {
  findExecutable,
  isAlive,
  isLoopback,
  portTaken,
  runningPid,
  runTool,
  sleep,
  spawnDaemon,
  stopProcess,
  tailOf,
} from './process-control';

// Like the broker's: a Maven project in the source tree, its jar fetched into ./lib on demand.
const ZIPKIN_DIR = path.join(REPO_ROOT, 'infra', 'zipkin');
const POM = path.join(ZIPKIN_DIR, 'pom.xml');
const JARS_DIR = path.join(ZIPKIN_DIR, 'lib');
/** Found in the server's command line, so a stale pid file never stops another program. */
const MARKER = 'zipkin-server';
/** Zipkin keeps spans in memory: a small heap is plenty for local traces. */
const HEAP = ['-Xms64m', '-Xmx256m'];

function files(stateDir: string) {
  const dir = path.join(stateDir, 'zipkin');
  return { dir, pidFile: path.join(dir, 'zipkin.pid'), logFile: path.join(dir, 'zipkin.log') };
}

/** Where Zipkin answers: the origin of OTEL_EXPORTER_ZIPKIN_ENDPOINT. */
export function zipkinAddress(config: Config): { origin: string; host: string; port: number } {
  const url = new URL(config.tracing.zipkinEndpoint);
  return { origin: url.origin, host: url.hostname, port: Number(url.port || 80) };
}

export function runningZipkinPid(stateDir: string): number | undefined {
  return runningPid(files(stateDir).pidFile, MARKER);
}

export async function zipkinAnswers(origin: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}

const jarIn = (dir: string) =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir).find((f) => /^zipkin-server-.*-exec\.jar$/.test(f))
    : undefined;

/** The Zipkin server jar, copied from Maven Central on first use. */
async function fetchZipkinJar(say: (line: string) => void): Promise<string> {
  const present = jarIn(JARS_DIR);
  if (present) return path.join(JARS_DIR, present);
  const mvn = findExecutable('mvn');
  if (!mvn) throw new OperatorError('zipkin: server jar missing and Maven (mvn) not found');
  say(`zipkin: fetching the server jar into ${JARS_DIR} with Maven (first run only)…`);
  const result = await runTool(mvn, ['-q', '-B', '-f', POM, 'dependency:copy-dependencies']);
  const fetched = jarIn(JARS_DIR);
  if (!result.ok || !fetched) {
    const lines = stripVTControlCharacters(result.output).trim().split('\n');
    const why = lines.reverse().find((l) => l.trim() !== '') ?? `exit ${result.code}`;
    throw new OperatorError(
      `zipkin: Maven could not fetch the server jar (${why}): run \`npm run infra:fetch-zipkin\``,
    );
  }
  return path.join(JARS_DIR, fetched);
}

/** Zipkin answers where OTEL_EXPORTER_ZIPKIN_ENDPOINT points, or a local one is started there. */
export async function ensureZipkin(
  config: Config,
  say: (line: string) => void,
): Promise<ServerOutcome> {
  const { origin, host, port } = zipkinAddress(config);
  if (await zipkinAnswers(origin))
    return runningZipkinPid(config.stateDir) ? 'running' : 'external';
  if (!config.startLocalInfra || !isLoopback(host)) {
    throw new OperatorError(
      `zipkin: not answering at ${origin} (OTEL_EXPORTER_ZIPKIN_ENDPOINT): start Zipkin there`,
    );
  }
  if (await portTaken(host, port)) {
    throw new OperatorError(
      `zipkin: port ${port} is taken by another program: point OTEL_EXPORTER_ZIPKIN_ENDPOINT at a free port`,
    );
  }
  const jar = await fetchZipkinJar(say);
  const f = files(config.stateDir);
  fs.mkdirSync(f.dir, { recursive: true });
  const pid = spawnDaemon(
    java(),
    [...HEAP, '-jar', jar, `--armeria.ports[0].port=${port}`, `--armeria.ports[0].ip=${host}`],
    { logFile: f.logFile, pidFile: f.pidFile },
  );
  // A Spring Boot start: some seconds, more on a busy machine.
  for (let i = 0; i < 240 && isAlive(pid); i++) {
    if (await zipkinAnswers(origin, 500)) {
      say(`zipkin: started (pid ${pid}) at ${origin}/zipkin/`);
      return 'started';
    }
    await sleep(250);
  }
  const alive = isAlive(pid);
  if (alive) await stopProcess(pid);
  fs.rmSync(f.pidFile, { force: true });
  throw new OperatorError(
    `zipkin (pid ${pid}) ${alive ? 'did not answer' : 'exited'} at ${origin} (${tailOf(f.logFile, 1).trim() || 'no log'}): see ${f.logFile}`,
  );
}

export async function stopZipkin(stateDir: string): Promise<number | undefined> {
  const pid = runningZipkinPid(stateDir);
  if (pid === undefined) return undefined;
  await stopProcess(pid);
  fs.rmSync(files(stateDir).pidFile, { force: true });
  return pid;
}
