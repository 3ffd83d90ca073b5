import { infraDown, infraStatus, infraUp, upSummary } from '../infra/local-infra';
import { loadConfig } from '../lib/config';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** `orderstream infra up`: start what is not running, create topics and shard databases, migrate. */
export async function up(): Promise<void> {
  say(upSummary(await infraUp(loadConfig(), say)));
}

/** `orderstream infra down`: stop what `infra up` started (by pid); data is kept. */
export async function down(): Promise<void> {
  await infraDown(loadConfig(), say);
}

/** `orderstream infra status`: what is up, where, who started it; exit 1 unless all is as configured. */
export async function status(): Promise<void> {
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
  if (statuses.some((s) => !s.ok)) process.exitCode = 1;
}
