import { Command } from 'commander';
import { runEntrypoint } from '../lib/entrypoint';
import { registerBenchCommand } from './bench/command';
import { registerConsumeCommand } from './consume';
import { registerDlqCommands } from './dlq';
import { registerInfraCommands } from './infra';
import { registerReplayCommand } from './replay';
import { startEverything } from './start';
import { registerStatusCommand } from './status';
import { registerTokenCommand } from './token';

const program = new Command()
  .name('orderstream')
  .description('orderstream: event-sourced commerce on Kafka')
  .showHelpAfterError();

registerInfraCommands(program);
registerTokenCommand(program);
registerConsumeCommand(program);
registerStatusCommand(program);
registerReplayCommand(program);
registerDlqCommands(program);
registerBenchCommand(program);
program
  .command('start')
  .description('bring the infrastructure up, then run every service until Ctrl-C')
  .action(startEverything);

runEntrypoint(async () => {
  await program.parseAsync(process.argv);
});
