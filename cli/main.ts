import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runEntrypoint } from '../lib/entrypoint';
import { ROLES, type Role } from '../lib/http/auth';
import { REPO_ROOT } from '../lib/repo-root';
import { registerBenchCommand } from './bench/command';

// Each command's code (and kafkajs, pg, express, avsc behind it) is loaded when that command
// runs, not when the CLI starts: `--help`, `--version` and `token` stay quick.
const load = {
  consume: () => require('./consume') as typeof import('./consume'),
  dlq: () => require('./dlq') as typeof import('./dlq'),
  infra: () => require('./infra') as typeof import('./infra'),
  replay: () => require('./replay') as typeof import('./replay'),
  seed: () => require('./seed') as typeof import('./seed'),
  shards: () => require('./shards') as typeof import('./shards'),
  start: () => require('./start') as typeof import('./start'),
  status: () => require('./status') as typeof import('./status'),
  token: () => require('./token') as typeof import('./token'),
};

function brokerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 5)
    throw new InvalidArgumentError('expected a whole number of brokers from 1 to 5');
  return n;
}

function shardCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number of shards from 1 to 64');
  return n;
}

/** A token lifetime jose understands, in the forms the help shows. */
function duration(value: string): string {
  if (!/^\d+[smhdw]$/.test(value)) {
    throw new InvalidArgumentError(
      'expected a number and a unit (s, m, h, d or w), e.g. 30m, 12h or 7d',
    );
  }
  return value;
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const program = new Command()
  .name('orderstream')
  .description('orderstream: event-sourced commerce on Kafka')
  .version(version(), '-V, --version', 'print the version')
  .showHelpAfterError('(add --help for usage)');

const infra = program
  .command('infra')
  .description('the local broker, Postgres shard databases and Redis (no Docker needed)');
infra
  .command('up')
  .description(
    'start what is not running, create topics and shard databases, migrate; safe to repeat',
  )
  .option(
    '--brokers <n>',
    'run a local cluster of n KRaft brokers (3: replication factor 3, min.insync.replicas 2) on every second port from KAFKA_BROKERS',
    brokerCount,
  )
  .addOption(
    new Option('--with <extra...>', 'also start: tracing (a local Zipkin server)').choices([
      'tracing',
    ]),
  )
  .action((options: { brokers?: number; with?: string[] }) => load.infra().up(options));
infra
  .command('down')
  .description('stop what `infra up` started (by pid); data is kept')
  .action(() => load.infra().down());
infra
  .command('status')
  .description(
    'show what is up, where, and who started it (exit 1 when something is down or not as configured)',
  )
  .action(() => load.infra().status());

program
  .command('token')
  .description('print a signed bearer token (signed with JWT_SECRET) for curl and tests')
  .addOption(
    new Option('--role <role>', 'role of the caller').choices([...ROLES]).makeOptionMandatory(),
  )
  .requiredOption('--sub <subject>', 'who the caller is, e.g. alice (a customer id for customers)')
  .option('--expires <duration>', 'lifetime, e.g. 30m, 12h, 7d', duration, '12h')
  .action((options: { role: Role; sub: string; expires: string }) =>
    load.token().printToken(options),
  );

program
  .command('consume <topic>')
  .description(
    'print decoded messages as JSON lines (topic with or without the TOPIC_PREFIX, e.g. order.events)',
  )
  .option('--from-beginning', 'start at the oldest message (default: the end of the log)')
  .option(
    '--follow',
    'keep printing new messages until Ctrl-C (default: stop at the end of the log)',
  )
  .action((topic: string, options: { fromBeginning?: boolean; follow?: boolean }) =>
    load.consume().consume(topic, options),
  );

program
  .command('status')
  .description(
    'every consumer group (commands, saga, retries, projections) with its lag per partition, the dead-letter depths and the payment breaker',
  )
  .option('--json', 'one JSON document instead of the table')
  .action((options: { json?: boolean }) => load.status().status(options));

program
  .command('replay <projection>')
  .description(
    'rebuild a projection (read-model, views or analytics) from the log into a new generation, then switch readers to it',
  )
  .addOption(
    new Option('--from <position>', 'where to start reading the log')
      .choices(['earliest'])
      .default('earliest'),
  )
  .action((projection: string) => load.replay().replay(projection));

const shards = program.command('shards').description("the read model's Postgres shard databases");
shards
  .command('add')
  .description(
    'grow the read model to more shard databases: creates them, replays into a new generation on the larger ring while the current one serves, switches readers, drops the old one',
  )
  .requiredOption('--to <count>', 'the number of shards after growing', shardCount)
  .action((options: { to: number }) => load.shards().addShards(options.to));

const dlq = program
  .command('dlq')
  .description("the saga's dead-letter queue: payment calls that failed past the last retry");
dlq
  .command('list')
  .description('what, why, when and after how many attempts; ends with the depth')
  .action(() => load.dlq().listDeadLetters());
dlq
  .command('redrive [id]')
  .description('put a dead letter (or --all) back into the saga, attempts starting over')
  .option('--all', 'every open dead letter')
  .action((id: string | undefined, options: { all?: boolean }) =>
    load.dlq().redriveDeadLetters(id, options.all),
  );
dlq
  .command('discard <id>')
  .description('give up on a dead letter for good')
  .action((id: string) => load.dlq().discardDeadLetter(id));

program
  .command('seed')
  .description(
    "create a demo catalogue (electronics, books, clothing, home) and a few customers' orders through the command API; safe to repeat",
  )
  .option('--url <url>', 'the command API (default: http://127.0.0.1:<COMMAND_API_PORT>)')
  .action((options: { url?: string }) => load.seed().seed(options));

registerBenchCommand(program);

program
  .command('start')
  .description('bring the infrastructure up, then run every service until Ctrl-C')
  .action(() => load.start().startEverything());

// `orderstream consume … | head`: the reader has gone; stop quietly instead of with a stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

runEntrypoint(async () => {
  await program.parseAsync(process.argv);
});
