import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { isolatedConfig, type RunningCommandApi, startCommandApi } from '../support/command-api';
import { REPO_ROOT } from '../support/test-env';

/** The README's examples, run as written (only the API address is this test's). */
function readmeExample(name: string): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const match = new RegExp(
    `<!-- example:${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\s*<!-- /example -->`,
  ).exec(readme);
  if (!match?.[1]) throw new Error(`README has no example ${name}`);
  return match[1];
}

function bash(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-euo', 'pipefail', '-c', script],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('README command API example', () => {
  let config: Config;
  let api: RunningCommandApi;

  beforeAll(async () => {
    config = await isolatedConfig('readme');
    api = await startCommandApi(config);
  });
  afterAll(() => api.stop());

  it('runs as written and shows each documented answer', async () => {
    const script = readmeExample('command-api');
    expect(script).toContain('API=http://127.0.0.1:3001');
    const result = await bash(script.replace('API=http://127.0.0.1:3001', `API=${api.url}`), {
      TOPIC_PREFIX: config.topics.prefix,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const answers = result.stdout
      .split(/(?<=})\s*(?={)/)
      .map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
    expect(
      answers.map((a) => (a.events as { type: string }[] | undefined)?.[0]?.type ?? a.status),
    ).toEqual(['ProductRestocked', 'OrderPlaced', 400]);
    expect(answers[2]?.errors).toEqual([expect.objectContaining({ field: 'items[0].quantity' })]);
  });
});
