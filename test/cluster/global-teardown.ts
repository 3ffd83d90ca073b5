import fs from 'node:fs';
import globalTeardown from '../global-teardown';

/** Stops the test cluster's brokers (by pid, as `infra down` does) and removes their folder. */
export default async function clusterTeardown(): Promise<void> {
  await globalTeardown();
  const stateDir = process.env.ORDERSTREAM_STATE_DIR;
  if (stateDir?.includes('orderstream-cluster-'))
    fs.rmSync(stateDir, { recursive: true, force: true });
}
