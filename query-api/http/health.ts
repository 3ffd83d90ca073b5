import { Router } from 'express';
import { checkDependencies, type DependencyCheck } from '../../lib/http/health';
import { sendProblem } from '../../lib/http/problem';

/**
 * `/health/live`: the process runs. `/health/ready`: every required dependency (the leader
 * shards, Redis) answers, else 503 naming them. Optional ones (the follower shards) are
 * reported beside them, but one that is down only makes the answer `degraded` — reads then go
 * to the leader.
 */
export function queryHealthRouter(
  required: DependencyCheck[],
  optional: DependencyCheck[],
  timeoutMs: number,
): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'live' });
  });
  router.get('/health/ready', async (_req, res) => {
    const [needed, extra] = await Promise.all([
      checkDependencies(required, timeoutMs),
      checkDependencies(optional, timeoutMs),
    ]);
    const dependencies = { ...needed.dependencies, ...extra.dependencies };
    const degraded = Object.keys(extra.dependencies).filter(
      (name) => extra.dependencies[name] !== 'up',
    );
    if (!needed.ready) {
      const down = Object.keys(needed.dependencies).filter(
        (name) => needed.dependencies[name] !== 'up',
      );
      sendProblem(res, {
        title: 'Service Unavailable',
        status: 503,
        detail: `Not ready: ${down.join(', ')} not answering`,
        dependencies,
      });
      return;
    }
    res.json(
      degraded.length === 0
        ? { status: 'ready', dependencies }
        : { status: 'degraded', dependencies, degraded },
    );
  });
  return router;
}
