import type { Config } from '../../lib/config';
import { issueToken } from '../../lib/http/auth';
import { envOf, isolatedConfig } from '../support/command-api';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { freePort } from '../support/test-env';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('QUERY_API_WORKERS', () => {
  let config: Config;
  let api: ServiceProcess | undefined;
  beforeAll(async () => {
    config = await isolatedConfig('qworkers', {}, { stores: true });
  });
  afterAll(() => api?.kill('SIGKILL'));

  it('serves one port from that many worker processes, replaces one that dies, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    api = startServiceProcess('query-api/main.ts', port, {
      ...envOf(config),
      QUERY_API_PORT: String(port),
      QUERY_API_WORKERS: '2',
    });
    const listening = await api.waitForLog((l) => l.msg === 'query-api listening');
    const workers = listening.workers as number[];
    expect(workers).toHaveLength(2);
    expect(workers).not.toContain(api.child.pid);
    const token = await issueToken(config.jwt, 'c-1', 'customer');
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${api.url}/categories`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    }

    process.kill(workers[0] as number, 'SIGKILL');
    await api.waitForLog((l) => l.msg === 'query-api worker died; replacing it');
    const again = await api.waitForLog(
      (l) =>
        l.msg === 'query-api listening' && !(l.workers as number[]).includes(workers[0] as number),
    );
    const replaced = again.workers as number[];
    expect(replaced).toHaveLength(2);
    expect((await fetch(`${api.url}/health/live`)).status).toBe(200);

    await api.kill('SIGTERM');
    expect(api.child.exitCode).toBe(0);
    for (const pid of replaced) expect(alive(pid)).toBe(false);
  });
});
