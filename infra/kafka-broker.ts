import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafkaClient, pingKafka } from '../lib/kafka';
import { REPO_ROOT } from '../lib/repo-root';
import {
  allNodeFiles,
  type BrokerFiles,
  brokerProperties,
  clusterHome,
  type LocalNode,
  localNodes,
} from './kafka-cluster';
import {
  findExecutable,
  isAlive,
  portTaken,
  runningPid,
  runTool,
  sleep,
  spawnDaemon,
  stopProcess,
} from './process-control';

// The Maven project stays in the source tree, also when running from dist/; the jars go to
// KAFKA_JARS_DIR (infra/kafka/lib unless set).
const KAFKA_DIR = path.join(REPO_ROOT, 'infra', 'kafka');
const POM = path.join(KAFKA_DIR, 'pom.xml');
const LOG4J = path.join(KAFKA_DIR, 'log4j.properties');
/** Found in the broker's command line, so a stale pid file never stops another program. */
const MAIN_CLASS = 'kafka.Kafka';

/** Where the local broker listens: the one loopback address of KAFKA_BROKERS, if it is one. */
export function localBrokerAddress(config: Config): { host: string; port: number } | undefined {
  const nodes = localNodes(config);
  if (nodes?.length !== 1) return undefined;
  const [node] = nodes;
  return node && { host: node.host, port: node.port };
}

function hasJars(jarsDir: string): boolean {
  return (
    fs.existsSync(jarsDir) && fs.readdirSync(jarsDir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))
  );
}

/** Copies the broker jars from Maven Central into KAFKA_JARS_DIR unless they are there. */
export async function fetchBrokerJars(
  config: Pick<Config, 'kafka'>,
  say: (line: string) => void,
): Promise<void> {
  const { jarsDir } = config.kafka;
  if (hasJars(jarsDir)) return;
  const mvn = findExecutable('mvn');
  if (!mvn) {
    throw new OperatorError(
      'Kafka broker jars missing and Maven (mvn) not found: install Java 17+ and Maven, or set KAFKA_BROKERS to a running broker',
    );
  }
  say(`kafka: fetching the broker jars into ${jarsDir} with Maven (first run only)…`);
  const result = await runTool(mvn, [
    '-q',
    '-B',
    '-f',
    POM,
    `-Dkafka.jars.dir=${jarsDir}`,
    'dependency:copy-dependencies',
  ]);
  if (!result.ok || !hasJars(jarsDir)) {
    // Maven's -q output still carries colour codes on some terminals.
    const lines = stripVTControlCharacters(result.output).trim().split('\n');
    const why = lines.reverse().find((l) => l.trim() !== '') ?? '';
    throw new OperatorError(
      `Maven could not fetch the Kafka broker jars (${why || `exit ${result.code}`}): run \`npm run infra:fetch\` to see why`,
    );
  }
}

/** The local nodes `infra up` started from this state folder that still run. */
export function runningBrokerPids(stateDir: string): number[] {
  return allNodeFiles(stateDir).flatMap((files) => runningPid(files.pidFile, MAIN_CLASS) ?? []);
}

/** The single local broker's pid (or a cluster's first node's), if one runs. */
export function runningBrokerPid(stateDir: string): number | undefined {
  return runningBrokerPids(stateDir)[0];
}

/** The JVM to run the broker (and Zipkin) with: JAVA_HOME's, else the one on the PATH. */
export function java(): string {
  const fromHome = process.env.JAVA_HOME && path.join(process.env.JAVA_HOME, 'bin', 'java');
  const found = fromHome && fs.existsSync(fromHome) ? fromHome : findExecutable('java');
  if (!found) {
    throw new OperatorError(
      'Java not found (needed to run the Kafka broker and Zipkin): install Java 17+ or set JAVA_HOME',
    );
  }
  return found;
}

/**
 * A cluster id: 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` makes — and,
 * like Kafka's own, never starting with "-", which the storage tool would read as an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The id every node of the local cluster formats its storage with, made once and kept. */
function clusterIdFor(stateDir: string, nodes: LocalNode[]): string {
  if (nodes.length === 1) return newClusterId();
  const file = path.join(clusterHome(stateDir), 'cluster.id');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const id = newClusterId();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

async function formatStorage(files: BrokerFiles, jarsDir: string, clusterId: string) {
  if (fs.existsSync(path.join(files.dataDir, 'meta.properties'))) return;
  const result = await runTool(java(), [
    `-Dlog4j.configuration=file:${LOG4J}`,
    '-cp',
    `${jarsDir}/*`,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    files.properties,
    '--ignore-formatted',
  ]);
  if (!result.ok) {
    throw new OperatorError(
      `kafka: formatting storage in ${files.dataDir} failed: ${result.output.split('\n')[0]}`,
    );
  }
}

export type BrokerOutcome = 'started' | 'running' | 'external';

/** The config with KAFKA_BROKERS narrowed to one node (to ask that node alone). */
function onlyNode(config: Config, node: LocalNode): Config {
  return { ...config, kafka: { ...config.kafka, brokers: [`${node.host}:${node.port}`] } };
}

/**
 * Makes sure the brokers of KAFKA_BROKERS answer. Reuses running ones; otherwise starts the
 * local KRaft nodes from the Maven-fetched jars (formatting their storage on first start): one
 * for one address, a cluster for several — and only the nodes that are down (one was killed).
 */
export async function ensureBroker(
  config: Config,
  say: (line: string) => void,
): Promise<BrokerOutcome> {
  const where = config.kafka.brokers.join(',');
  const nodes = localNodes(config);
  const down: LocalNode[] = [];
  // A refused connection fails at once; the wait only matters for a slow or busy broker.
  for (const node of nodes ?? [])
    if (!(await answers(onlyNode(config, node), 5000))) down.push(node);
  if (!nodes) {
    if (await answers(config, 5000)) return 'external';
  } else if (down.length === 0) {
    return runningBrokerPid(config.stateDir) ? 'running' : 'external';
  }
  if (!config.startLocalInfra || !nodes) {
    throw new OperatorError(
      `Kafka broker not reachable at ${where} (KAFKA_BROKERS): start one there, or point KAFKA_BROKERS at one${
        nodes ? ', or set INFRA_START_LOCAL=true to let `orderstream infra up` start it' : ''
      }`,
    );
  }
  const started = Date.now();
  const starting: Promise<number>[] = [];
  for (const node of down) {
    const stale = runningPid(node.files.pidFile, MAIN_CLASS);
    if (stale) {
      // Our broker runs but does not answer (still starting?): give it a moment before deciding.
      starting.push(waitUntilAnswers(onlyNode(config, node), stale, node.files, 60_000));
      continue;
    }
    await checkPortsFree(config, node);
    await fetchBrokerJars(config, say);
    fs.mkdirSync(node.files.dataDir, { recursive: true });
    fs.writeFileSync(node.files.properties, brokerProperties(config, node, nodes));
    await formatStorage(node.files, config.kafka.jarsDir, clusterIdFor(config.stateDir, nodes));
    const logStart = sizeOf(node.files.logFile);
    const pid = spawnNode(config, node.files);
    // A cluster node answers once a quorum of controllers runs: wait for them all together.
    starting.push(waitUntilAnswers(onlyNode(config, node), pid, node.files, 120_000, logStart));
  }
  const pids = await Promise.all(starting);
  if (nodes.length > 1) await waitUntilAllRegistered(config, nodes.length, 60_000);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  say(
    nodes.length === 1
      ? `kafka: started broker (pid ${pids[0]}) at ${where} in ${seconds} s`
      : `kafka: started ${pids.length} of ${nodes.length} brokers (pids ${pids.join(', ')}) at ${where} in ${seconds} s`,
  );
  return 'started';
}

async function checkPortsFree(config: Config, node: LocalNode): Promise<void> {
  const where = config.kafka.brokers.join(',');
  if (await portTaken(node.host, node.port)) {
    throw new OperatorError(
      `Kafka broker not answering at ${where} (KAFKA_BROKERS), and port ${node.port} is taken by another program, so no local broker can start there: stop that program, or point KAFKA_BROKERS at a free port`,
    );
  }
  if (await portTaken(node.host, node.controllerPort)) {
    throw new OperatorError(
      `port ${node.controllerPort} on ${node.host} (KAFKA_CONTROLLER_PORT${node.id > 1 ? ` + ${2 * (node.id - 1)}` : ''}) is taken by another program, so the local broker cannot start: stop that program, or set KAFKA_CONTROLLER_PORT to a free port`,
    );
  }
}

function spawnNode(config: Config, files: BrokerFiles): number {
  return spawnDaemon(
    java(),
    [
      `-Xms${config.kafka.heap}`,
      `-Xmx${config.kafka.heap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      // The quick JIT only: a fresh broker's optimising compiler (C2) took half a core for
      // minutes on a 2-core machine, and every test run, bench and `npm start` begins with one.
      // Measured in one bench each way (after the raw part's warm-up): orders/s 86 → 103, broker
      // CPU per order 7.3 → 4.8 ms, raw consume→produce 2,754 → 4,744 msg/s (librdkafka).
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${LOG4J}`,
      `-Dkafka.logs.dir=${files.home}`,
      '-cp',
      `${config.kafka.jarsDir}/*`,
      MAIN_CLASS,
      files.properties,
    ],
    { logFile: files.logFile, pidFile: files.pidFile },
  );
}

async function answers(config: Config, timeoutMs = 1500): Promise<boolean> {
  try {
    await pingKafka(config, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilAnswers(
  config: Config,
  pid: number,
  files: BrokerFiles,
  timeoutMs: number,
  logStart = 0,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new OperatorError(
        `Kafka broker exited while starting (see ${files.logFile}): ${startupError(logSince(files.logFile, logStart))}`,
      );
    }
    // Alive and answering: the answer is this broker's, not another program's on the port.
    if ((await answers(config)) && isAlive(pid)) return pid;
    await sleep(300);
  }
  throw new OperatorError(
    `Kafka broker (pid ${pid}) did not answer at ${config.kafka.brokers.join(',')} within ${timeoutMs / 1000} s: see ${files.logFile}`,
  );
}

/**
 * A cluster node answers before the controller unfences it, and metadata lists only unfenced
 * brokers: topics created then would get fewer copies than the cluster has nodes.
 */
async function waitUntilAllRegistered(
  config: Config,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const admin = createKafkaClient(config).admin();
  const deadline = Date.now() + timeoutMs;
  let listed: number[] = [];
  try {
    while (Date.now() < deadline) {
      listed = await admin.brokers().catch(() => listed);
      if (listed.length >= count) return;
      await sleep(300);
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
  throw new OperatorError(
    `only ${listed.length} of ${count} Kafka brokers (ids ${listed.join(', ') || 'none'}) joined the cluster at ${config.kafka.brokers.join(',')} within ${timeoutMs / 1000} s: see the broker.log files under ${clusterHome(config.stateDir)}`,
  );
}

/**
 * Why a broker stopped while starting, from what it logged in this start: its first ERROR
 * (with the exception line after it, which names the cause); else the last line. The first,
 * not the last: a broker that fails goes on logging its shutdown, errors included.
 */
export function startupError(log: string): string {
  const lines = log.trimEnd().split('\n');
  const at = lines.findIndex((l) => /\b(ERROR|FATAL)\b/.test(l));
  if (at < 0) return (lines.at(-1) ?? '').trim();
  const next = lines[at + 1]?.trim() ?? '';
  const error = (lines[at] ?? '').replace(/^\[[^\]]*\]\s*/, '').trim();
  return /^[\w.$]+(Exception|Error)\b/.test(next) ? `${error}: ${next}` : error;
}

/** The log lines written since `offset` (the file's size when this start began). */
function logSince(logFile: string, offset: number): string {
  try {
    return fs.readFileSync(logFile).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

const sizeOf = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/** Stops the brokers `infra up` started from this state folder, if they run. Their data stays. */
export async function stopBroker(stateDir: string): Promise<number[]> {
  const stopped: number[] = [];
  await Promise.all(
    allNodeFiles(stateDir).map(async (files) => {
      const pid = runningPid(files.pidFile, MAIN_CLASS);
      if (pid === undefined) return;
      await stopProcess(pid, 30_000);
      fs.rmSync(files.pidFile, { force: true });
      stopped.push(pid);
    }),
  );
  return stopped;
}
