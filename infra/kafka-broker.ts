import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { pingKafka } from '../lib/kafka';
import { REPO_ROOT } from '../lib/repo-root';
import {
  findExecutable,
  isAlive,
  isLoopback,
  runningPid,
  sleep,
  spawnDaemon,
  stopProcess,
  tailOf,
} from './process-control';

// The Maven project and its fetched jars stay in the source tree, also when running from dist/.
const KAFKA_DIR = path.join(REPO_ROOT, 'infra', 'kafka');
const JARS_DIR = path.join(KAFKA_DIR, 'lib');
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

function hasJars(): boolean {
  return (
    fs.existsSync(JARS_DIR) && fs.readdirSync(JARS_DIR).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))
  );
}

/** Copies the broker jars from Maven Central into infra/kafka/lib unless they are there. */
export function fetchBrokerJars(say: (line: string) => void): void {
  if (hasJars()) return;
  const mvn = findExecutable('mvn');
  if (!mvn) {
    throw new OperatorError(
      'Kafka broker jars missing and Maven (mvn) not found: install Java 17+ and Maven, or set KAFKA_BROKERS to a running broker',
    );
  }
  say('kafka: fetching the broker jars with Maven (first run only)…');
  const result = spawnSync(mvn, ['-q', '-B', '-f', POM, 'dependency:copy-dependencies'], {
    encoding: 'utf8',
  });
  if (result.status !== 0 || !hasJars()) {
    const why = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-1)[0];
    throw new OperatorError(
      `Maven could not fetch the Kafka broker jars (${why || `exit ${result.status}`}): run \`npm run infra:fetch\` to see why`,
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

function formatStorage(files: BrokerFiles): void {
  if (fs.existsSync(path.join(files.dataDir, 'meta.properties'))) return;
  const clusterId = newClusterId();
  const result = spawnSync(
    java(),
    [
      `-Dlog4j.configuration=file:${LOG4J}`,
      '-cp',
      `${JARS_DIR}/*`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      files.properties,
      '--ignore-formatted',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new OperatorError(
      `kafka: formatting storage in ${files.dataDir} failed: ${(result.stderr || result.stdout).trim().split('\n')[0]}`,
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
  if (await answers(config)) {
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
  fetchBrokerJars(say);
  fs.mkdirSync(files.dataDir, { recursive: true });
  fs.writeFileSync(files.properties, brokerProperties(config, files));
  formatStorage(files);
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
      `${JARS_DIR}/*`,
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

async function answers(config: Config): Promise<boolean> {
  try {
    await pingKafka(config, 1500);
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
    if (await answers(config)) return;
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
