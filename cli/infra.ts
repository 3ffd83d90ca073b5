import type { Command } from 'commander';
import { infraDown, infraStatus, infraUp } from '../infra/local-infra';
import { loadConfig } from '../lib/config';

const say = (line: string) => process.stdout.write(`${line}\n`);

export function registerInfraCommands(program: Command): void {
  const infra = program
    .command('infra')
    .description('the local broker, Postgres shard databases and Redis (no Docker needed)');

  infra
    .command('up')
    .description(
      'start what is not running, create topics and shard databases, migrate; safe to repeat',
    )
    .action(async () => {
      const config = loadConfig();
      const { started } = await infraUp(config, say);
      say(
        started.length > 0
          ? `infra up: started ${started.join(', ')}`
          : 'infra up: everything was already running',
      );
    });

  infra
    .command('down')
    .description('stop what `infra up` started (by pid); data is kept')
    .action(async () => {
      await infraDown(loadConfig(), say);
    });

  infra
    .command('status')
    .description('show what is up, where, and who started it (exit 1 when something is down)')
    .action(async () => {
      const statuses = await infraStatus(loadConfig());
      for (const s of statuses) {
        say(
          [
            s.component.padEnd(9),
            (s.up ? 'up' : 'down').padEnd(5),
            s.where,
            s.owner && `· ${s.owner}`,
            s.detail && `· ${s.detail}`,
          ]
            .filter(Boolean)
            .join(' '),
        );
      }
      if (statuses.some((s) => !s.up)) process.exitCode = 1;
    });
}
