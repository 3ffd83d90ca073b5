import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { pingKafka } from '../lib/kafka';
import { REPO_ROOT } from '../lib/repo-root';
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

// The Maven project stays in the source tree, also when running from dist/; the jars go to
// KAFKA_JARS_DIR (infra/kafka/lib unless set).
const KAFKA_DIR = path.join(REPO_ROOT, 'infra', 'kafka');
const POM = path.join(KAFKA_DIR, 'pom.xml');
const LOG4J = path.join(KAFKA_DIR, 'log4j.properties');
/** Found in the broker's command line, so a stale pid file never stops another program. */
const MAIN_CLASS = 'kafka.Kafka';

export interface BrokerFiles {
  home: string;
  dataDir: string;
  properties: string;
  pidFile: string;
  logFile: string;
}

export function brokerFiles(stateDir: string): BrokerFiles {
  const home = path.join(stateDir, 'kafka');
  return {
    home,
    dataDir: path.join(home, 'data'),
    properties: path.join(home, 'server.properties'),
    pidFile: path.join(home, 'broker.pid'),
    logFile: path.join(home, 'broker.log'),
  };
}

/** Where the local broker listens: the one loopback address of KAFKA_BROKERS, if it is one. */
export function localBrokerAddress(config: Config): { host: string; port: number } | undefined {
  const [only, ...others] = config.kafka.brokers;
  if (!only || others.length > 0) return undefined;
  const [host = '', port = ''] = only.split(':');
  return isLoopback(host) ? { host, port: Number(port) } : undefined;
}

export function brokerProperties(config: Config, files: BrokerFiles): string {
  const address = localBrokerAddress(config);
  if (!address) throw new Error('no local broker address');
  const { host, port } = address;
  const controller = `${host}:${config.kafka.controllerPort}`;
  return [
    '# Written by `orderstream infra up`: one KRaft node, broker and controller.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${controller}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${controller}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${files.dataDir}`,
    `num.partitions=${config.topics.partitions}`,
    // Topics are created explicitly (infra up, tests): a typo must not create a new one.
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    // A small machine: few threads.
    'num.network.threads=2',
    'num.io.threads=4',
    'background.threads=4',
    'num.recovery.threads.per.data.dir=1',
    '',
  ].join('\n');
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

export function runningBrokerPid(stateDir: string): number | undefined {
  return runningPid(brokerFiles(stateDir).pidFile, MAIN_CLASS);
}

function java(): string {
  const fromHome = process.env.JAVA_HOME && path.join(process.env.JAVA_HOME, 'bin', 'java');
  const found = fromHome && fs.existsSync(fromHome) ? fromHome : findExecutable('java');
  if (!found) {
    throw new OperatorError(
      'Java not found (needed to run the Kafka broker): install Java 17+ or set JAVA_HOME',
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

async function formatStorage(files: BrokerFiles, jarsDir: string): Promise<void> {
  if (fs.existsSync(path.join(files.dataDir, 'meta.properties'))) return;
  const clusterId = newClusterId();
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

/**
 * Makes sure a broker answers at KAFKA_BROKERS. Reuses a running one; otherwise starts the
 * local KRaft node from the Maven-fetched jars (formatting its storage on first start).
 */
export async function ensureBroker(
  config: Config,
  say: (line: string) => void,
): Promise<BrokerOutcome> {
  const where = config.kafka.brokers.join(',');
  const files = brokerFiles(config.stateDir);
  // A refused connection fails at once; the wait only matters for a slow or busy broker.
  if (await answers(config, 5000)) {
    return runningBrokerPid(config.stateDir) ? 'running' : 'external';
  }
  const address = localBrokerAddress(config);
  if (!config.startLocalInfra || !address) {
    throw new OperatorError(
      `Kafka broker not reachable at ${where} (KAFKA_BROKERS): start one there, or point KAFKA_BROKERS at one${
        address ? ', or set INFRA_START_LOCAL=true to let `orderstream infra up` start it' : ''
      }`,
    );
  }
  const stale = runningBrokerPid(config.stateDir);
  if (stale) {
    // Our broker runs but does not answer (still starting?): give it a moment before deciding.
    await waitUntilAnswers(config, stale, files, 60_000);
    return 'running';
  }
  if (await portTaken(address.host, address.port)) {
    throw new OperatorError(
      `Kafka broker not answering at ${where} (KAFKA_BROKERS), and port ${address.port} is taken by another program, so no local broker can start there: stop that program, or point KAFKA_BROKERS at a free port`,
    );
  }
  if (await portTaken(address.host, config.kafka.controllerPort)) {
    throw new OperatorError(
      `port ${config.kafka.controllerPort} on ${address.host} (KAFKA_CONTROLLER_PORT) is taken by another program, so the local broker cannot start: stop that program, or set KAFKA_CONTROLLER_PORT to a free port`,
    );
  }
  await fetchBrokerJars(config, say);
  fs.mkdirSync(files.dataDir, { recursive: true });
  fs.writeFileSync(files.properties, brokerProperties(config, files));
  await formatStorage(files, config.kafka.jarsDir);
  const started = Date.now();
  const pid = spawnDaemon(
    java(),
    [
      `-Xms${config.kafka.heap}`,
      `-Xmx${config.kafka.heap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
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
  await waitUntilAnswers(config, pid, files, 120_000);
  say(
    `kafka: started broker (pid ${pid}) at ${where} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return 'started';
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
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new OperatorError(
        `Kafka broker exited while starting (see ${files.logFile}): ${lastError(files.logFile)}`,
      );
    }
    // Alive and answering: the answer is this broker's, not another program's on the port.
    if ((await answers(config)) && isAlive(pid)) return;
    await sleep(300);
  }
  throw new OperatorError(
    `Kafka broker (pid ${pid}) did not answer at ${config.kafka.brokers.join(',')} within ${timeoutMs / 1000} s: see ${files.logFile}`,
  );
}

function lastError(logFile: string): string {
  const lines = tailOf(logFile, 60).split('\n');
  return (lines.reverse().find((l) => /ERROR|Exception|Error:/.test(l)) ?? lines[0] ?? '').trim();
}

/** Stops the broker `infra up` started, if it runs. Its data stays. */
export async function stopBroker(stateDir: string): Promise<number | undefined> {
  const pid = runningBrokerPid(stateDir);
  if (pid === undefined) return undefined;
  await stopProcess(pid, 30_000);
  fs.rmSync(brokerFiles(stateDir).pidFile, { force: true });
  return pid;
}
