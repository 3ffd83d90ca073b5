import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { type Projectors, startProjectors } from '../../projectors/service';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { isolatedConfig, type RunningCommandApi, startCommandApi } from '../support/command-api';
import { REPO_ROOT, silentLogger } from '../support/test-env';

/** The README's examples, run as written (only the API addresses are this test's). */
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

/** Each JSON document curl printed, in order. */
const documents = (stdout: string) =>
  stdout
    .trim()
    .split(/(?<=[}\]])\s*(?=[{[])/)
    .map((chunk) => JSON.parse(chunk) as unknown);

describe('README examples', () => {
  let config: Config;
  let commands: RunningCommandApi;
  let projectors: Projectors;
  let queryApi: QueryApi;
  let queries: RunningServer;

  beforeAll(async () => {
    config = await isolatedConfig('readme', {}, { stores: true });
    commands = await startCommandApi(config);
    projectors = await startProjectors(config, silentLogger());
    queryApi = createQueryApi(config, silentLogger());
    queries = await listen(queryApi.app, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await queries.close();
    await queryApi.close();
    await projectors.stop();
    await commands.stop();
  });

  const run = (script: string) =>
    bash(
      script
        .replace('API=http://127.0.0.1:3001', `API=${commands.url}`)
        .replace('QUERY=http://127.0.0.1:3002', `QUERY=${queries.url}`),
      { TOPIC_PREFIX: config.topics.prefix },
    );

  it('the command API example, then the query API example in the same shell, run as written', async () => {
    const result = await run(`${readmeExample('command-api')}\n${readmeExample('query-api')}`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const answers = documents(result.stdout) as Record<string, unknown>[];
    const [
      restocked,
      placed,
      invalid,
      order,
      products,
      stock,
      categories,
      bestSellers,
      customerOrders,
      history,
    ] = answers.map((a) => a ?? {});
    // The command API's documented answers.
    expect(restocked).toMatchObject({
      events: [expect.objectContaining({ type: 'ProductRestocked' })],
    });
    expect(placed).toMatchObject({ events: [expect.objectContaining({ type: 'OrderPlaced' })] });
    expect(invalid).toMatchObject({
      status: 400,
      errors: [expect.objectContaining({ field: 'items[0].quantity' })],
    });
    // The query API reads back what was written.
    expect(order).toMatchObject({ status: 'pending', customerId: 'c-42' });
    expect(products).toMatchObject({ items: [expect.objectContaining({ name: 'Mug' })] });
    expect(products?.items).toHaveLength(1);
    expect(stock).toMatchObject({ available: 15, discontinued: false });
    expect(categories).toEqual([{ category: 'kitchen', count: 1 }]);
    expect(bestSellers).toEqual([expect.objectContaining({ name: 'Mug', unitsSold: 3 })]);
    expect(customerOrders?.items).toHaveLength(2);
    expect((history as unknown as { type: string }[]).map((e) => e.type)).toEqual(['OrderPlaced']);
  });

  it('the command API example can be run again: a new product and a new order, not a refusal', async () => {
    const result = await run(readmeExample('command-api'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [restocked, placed, invalid] = documents(result.stdout) as Record<string, unknown>[];
    expect(restocked).toMatchObject({
      events: [expect.objectContaining({ type: 'ProductRestocked', aggregateVersion: 2 })],
    });
    expect(placed).toMatchObject({
      status: 'accepted',
      events: [expect.objectContaining({ type: 'OrderPlaced' })],
    });
    expect(invalid).toMatchObject({ status: 400 });
  });
});
