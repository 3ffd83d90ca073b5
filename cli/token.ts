import { type Command, Option } from 'commander';
import { loadConfig } from '../lib/config';
import { issueToken, ROLES, type Role } from '../lib/http/auth';

/** `orderstream token`: a bearer token signed with JWT_SECRET, for local use and the README's examples. */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a signed bearer token (signed with JWT_SECRET) for curl and tests')
    .addOption(
      new Option('--role <role>', 'role of the caller').choices([...ROLES]).makeOptionMandatory(),
    )
    .requiredOption(
      '--sub <subject>',
      'who the caller is, e.g. alice (a customer id for customers)',
    )
    .option('--expires <duration>', 'lifetime, e.g. 30m, 12h, 7d', '12h')
    .action(async (options: { role: Role; sub: string; expires: string }) => {
      const config = loadConfig();
      process.stdout.write(
        `${await issueToken(config.jwt, options.sub, options.role, options.expires)}\n`,
      );
    });
}
