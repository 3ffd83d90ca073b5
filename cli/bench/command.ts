import { type Command, InvalidArgumentError, Option } from 'commander';
import { PARTS } from './plan';
import type { BenchOptions } from './run';

const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name}: expected a whole number ≥ 1`);
  return n;
};

/** `orderstream bench` (`npm run bench`); the harness loads only when it runs. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'measure raw Kafka baselines of each adapter and the whole stack under load on a private prefix; print a table, write JSON to .orderstream/bench/',
    )
    .option('--quick', 'short durations: a smoke run of every part')
    .option(
      '--only <parts>',
      `comma-separated: e2e (every part but raw and failover), or ${PARTS.join(', ')}`,
    )
    .addOption(
      new Option(
        '--adapter <adapter>',
        'Kafka client of the stack (default: what auto picks)',
      ).choices(['kafkajs', 'confluent']),
    )
    .option(
      '--concurrency <n>',
      'connections of the closed loop (default 64)',
      positive('--concurrency'),
    )
    .option(
      '--profile <dir>',
      'write a V8 CPU profile of every service into <dir> (node --cpu-prof)',
    )
    .option(
      '--flash-buyers <n>',
      'buyers of the flash sale (default 10000, --quick 1000)',
      positive('--flash-buyers'),
    )
    .action(async (options: BenchOptions) => {
      // Loaded here, not at the top: the harness needs devDependencies (undici).
      const { runBench } = require('./run') as typeof import('./run');
      await runBench(options);
    });
}
