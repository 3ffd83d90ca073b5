import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withNativeThreads } from './native-threads';

const ROOT = path.join(__dirname, '..', '..');

/**
 * In a process started as the services are (`node --import tsx`) with `env`: holds 8 pool
 * threads in opens of FIFOs nobody writes to (each blocks until a writer comes), then asks the
 * pool for one more thing. With libuv's default 4 threads it never gets one.
 */
function poolAfterEightBlockedCalls(env: NodeJS.ProcessEnv): string {
  const script = `
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const { execFileSync } = require('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderstream-pool-'));
    const fifos = Array.from({ length: 8 }, (_, i) => path.join(dir, 'fifo' + i));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    for (const fifo of fifos) fs.promises.open(fifo, 'r').catch(() => undefined);
    const done = (answer) => {
      console.log(answer);
      // A FIFO opened for reading and writing (Linux) lets the blocked opens return, so the
      // pool's threads end and the process can exit.
      for (const fifo of fifos) fs.openSync(fifo, 'r+');
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    };
    const starved = setTimeout(() => done('starved'), 3000);
    fs.promises.stat(dir).then(() => { clearTimeout(starved); done('free'); });
  `;
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 20_000,
  }).trim();
}

describe("libuv's thread pool of every service process", () => {
  const plain = { ...process.env };
  delete plain.UV_THREADPOOL_SIZE;

  it('has room for more blocked native calls than the default 4 threads', () => {
    expect(poolAfterEightBlockedCalls(plain)).toBe('starved');
    expect(poolAfterEightBlockedCalls(withNativeThreads(plain))).toBe('free');
  });

  it("keeps the operator's own size", () => {
    expect(withNativeThreads({ UV_THREADPOOL_SIZE: '128' }).UV_THREADPOOL_SIZE).toBe('128');
  });

  it('is sized wherever services are started', () => {
    const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const spawner of ['cli/start.ts', 'cli/bench/stack.ts', 'test/support/service-process.ts'])
      expect({ spawner, sized: read(spawner).includes('withNativeThreads(') }).toEqual({
        spawner,
        sized: true,
      });
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    for (const name of ['start', ...Object.keys(scripts).filter((n) => n.startsWith('start:'))])
      expect({ name, script: scripts[name] }).toEqual({
        name,
        script: expect.stringMatching(/^UV_THREADPOOL_SIZE=\$\{UV_THREADPOOL_SIZE:-64\} exec /),
      });
    expect(read('infra/Dockerfile')).toMatch(/UV_THREADPOOL_SIZE=64/);
    expect(read('bin/orderstream.js')).toMatch(
      /UV_THREADPOOL_SIZE \?\?= '64';\nrequire\('tsx\/cjs'\);/,
    );
  });
});
