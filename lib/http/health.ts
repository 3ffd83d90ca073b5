import { Router } from 'express';
import { withTimeout } from '../timeout';
import { sendProblem } from './problem';

/** Something a service needs in order to do its job, e.g. "redis" or "postgres shard 0". */
export interface DependencyCheck {
  name: string;
  check: () => Promise<unknown>;
}

export type DependencyReport = Record<string, 'up' | { down: string }>;

export async function checkDependencies(
  checks: DependencyCheck[],
  timeoutMs: number,
): Promise<{ ready: boolean; dependencies: DependencyReport }> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        await withTimeout(check(), timeoutMs, `no answer within ${timeoutMs} ms`);
        return [name, 'up'] as const;
      } catch (err) {
        return [name, { down: err instanceof Error ? err.message : String(err) }] as const;
      }
    }),
  );
  return {
    ready: results.every(([, state]) => state === 'up'),
    dependencies: Object.fromEntries(results),
  };
}

/** `/health/live`: the process runs. `/health/ready`: every dependency answers (else 503 naming them). */
export function healthRouter(checks: DependencyCheck[], timeoutMs: number): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'live' });
  });
  router.get('/health/ready', async (_req, res) => {
    const { ready, dependencies } = await checkDependencies(checks, timeoutMs);
    if (ready) {
      res.json({ status: 'ready', dependencies });
      return;
    }
    const down = Object.keys(dependencies).filter((name) => dependencies[name] !== 'up');
    sendProblem(res, {
      title: 'Service Unavailable',
      status: 503,
      detail: `Not ready: ${down.join(', ')} not answering`,
      dependencies,
    });
  });
  return router;
}
