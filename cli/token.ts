import { loadConfig } from '../lib/config';
import { issueToken, type Role } from '../lib/http/auth';

/** `orderstream token`: a bearer token signed with JWT_SECRET, for local use and the README's examples. */
export async function printToken(options: {
  role: Role;
  sub: string;
  expires: string;
}): Promise<void> {
  const config = loadConfig();
  process.stdout.write(
    `${await issueToken(config.jwt, options.sub, options.role, options.expires)}\n`,
  );
}
