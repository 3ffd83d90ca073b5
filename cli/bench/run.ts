import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Component, infraDown, infraUp } from '../../infra/local-infra';
import { loadConfig } from '../../lib/config';
import { type KafkaAdapterName, resolveAdapter } from '../../lib/kafka';
import { removeRunData } from './cleanup';
import { runE2e } from './e2e';
import { benchPlan, E2E_PARTS, selectParts } from './plan';
import { rawBaseline } from './raw/baselines';
import { reportRows } from './report';
import type { BenchResults } from './results';
import { runNames, stackEnv } from './run-names';
import { measureFailover } from './scenarios/failover';
import { BenchStack, freePort } from './stack';
import { renderTable } from './table';

export interface BenchOptions {
  quick?: boolean;
  only?: string;
  adapter?: KafkaAdapterName;
  concurrency?: number;
  flashBuyers?: number;
  /** Directory for V8 CPU profiles of every service (`node --cpu-prof`), written as they stop. */
  profile?: string;
}

const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);

/** Adapters whose raw baselines can be taken here: kafkajs always, confluent when built. */
function availableAdapters(): KafkaAdapterName[] {
  return resolveAdapter('auto') === 'confluent' ? ['kafkajs', 'confluent'] : ['kafkajs'];
}

/**
 * `orderstream bench`: raw Kafka baselines of every adapter, then the whole stack under load,
 * on the run's own topics, databases and keys (removed afterwards, also on Ctrl-C or failure).
 * Prints one table and writes it as JSON to `<state dir>/bench/<timestamp>.json` and
 * `latest.json`.
 */
export async function runBench(options: BenchOptions): Promise<void> {
  const started = performance.now();
  const parts = selectParts(options.only);
  const plan = benchPlan(options.quick ?? false, options);
  const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const names = runNames(id);
  const adapter = resolveAdapter(options.adapter ?? 'auto');
  const ports = {
    commandApi: await freePort(),
    queryApi: await freePort(),
    paymentGateway: await freePort(),
    projectors: await freePort(),
    sagas: await freePort(),
  };
  const env = stackEnv(process.env, names, ports, adapter);
  const config = loadConfig(env);
  const outDir = path.join(config.stateDir, 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const stack = new BenchStack(
    config,
    env,
    path.join(outDir, `${stamp}-services.log`),
    options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`] : [],
  );

  const results: BenchResults = {
    date: new Date().toISOString(),
    runId: id,
    quick: plan.quick,
    parts: [...parts],
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      os: `${os.type()} ${os.release()}`,
      loadAverageStart: os.loadavg()[0] ?? 0,
      loadAverageEnd: 0,
    },
    node: process.version,
    adapter,
    adapterChosenBy: options.adapter ? '--adapter' : 'auto (the native client when built)',
    raw: [],
    errors: [],
    durationMs: 0,
  };
  const failed = (part: string, error: unknown) => {
    const message = `${part}: ${error instanceof Error ? error.message : String(error)}`;
    results.errors.push(message);
    say(`FAILED ${message}`);
  };

  let infraStarted: Component[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= (async () => {
      say('cleaning up: stopping the stack, removing the run’s topics, databases and keys…');
      await stack.stop().catch((err: unknown) => failed('stopping the stack', err));
      for (const problem of await removeRunData(config, names)) failed('cleanup', problem);
      if (infraStarted.length > 0)
        await infraDown(config, say, infraStarted).catch(() => undefined);
    })();
    return cleaning;
  };
  const interrupted = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  say(
    `run ${id}: ${[...parts].join(', ')}${plan.quick ? ' (quick)' : ''}; stack adapter ${adapter}`,
  );
  try {
    infraStarted = (await infraUp(config, say)).started;
    if (parts.has('raw'))
      for (const a of availableAdapters()) {
        const raw = await rawBaseline(config, a, names.rawPrefix, plan.raw, say);
        results.raw.push(raw);
        for (const error of raw.errors) say(`FAILED raw ${a}: ${error}`);
      }
    if (parts.has('failover'))
      results.failover = await measureFailover(
        config,
        `${names.kafkaPrefix}-failover`,
        plan.failover.events,
        plan.failover.snapshotEvery,
        say,
      ).catch((err: unknown) => {
        failed('failover', err);
        return undefined;
      });
    if (E2E_PARTS.some((p) => parts.has(p)))
      results.e2e = await runE2e({
        config,
        names,
        plan,
        parts,
        stack,
        cores: results.machine.cpus,
        say,
        failed,
      });
  } catch (err) {
    failed('run', err);
  } finally {
    await cleanUp();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  results.machine.loadAverageEnd = os.loadavg()[0] ?? 0;
  results.durationMs = Math.round(performance.now() - started);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const file = path.join(outDir, `${stamp}.json`);
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(outDir, 'latest.json'), json);
  process.stdout.write(`\n${renderTable(reportRows(results))}\n`);
  say(`results in ${path.relative(process.cwd(), file)} (and latest.json beside it)`);
  if (results.errors.length > 0) process.exitCode = 1;
}
