import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { infraDown } from '../../infra/local-infra';
import { portTaken } from '../../infra/process-control';
import { loadConfig } from '../../lib/config';
import globalSetup from '../global-setup';

/** Six free ports in a row: three brokers, each with its controller on the next port. */
async function freePortRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    // Below Linux's ephemeral ports (32768 and up): a node's own outgoing connections, made
    // while the next node starts, once took the port that node was about to listen on.
    const base = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    const taken = await Promise.all(
      Array.from({ length: 6 }, (_, i) => portTaken('127.0.0.1', base + i, 300)),
    );
    if (!taken.some(Boolean)) return base;
  }
  throw new Error('no six free ports in a row for the test cluster');
}

/**
 * `npm run test:cluster`: a private three-broker KRaft cluster (small heaps) in a scratch
 * state folder, started by `infra up` as a user would, then the run's own names as usual.
 */
export default async function clusterSetup(): Promise<void> {
  const base = await freePortRange();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderstream-cluster-'));
  fs.chmodSync(stateDir, 0o755);
  Object.assign(process.env, {
    ORDERSTREAM_STATE_DIR: stateDir,
    KAFKA_BROKERS: [0, 2, 4].map((i) => `127.0.0.1:${base + i}`).join(','),
    KAFKA_CONTROLLER_PORT: String(base + 1),
    KAFKA_HEAP: process.env.KAFKA_HEAP || '384m',
  });
  try {
    await globalSetup();
  } catch (err) {
    // Jest skips the teardown when the setup fails: stop the nodes that did start (all of
    // this scratch folder's are this run's), by pid.
    await infraDown(loadConfig(), () => undefined, ['kafka']).catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
}
