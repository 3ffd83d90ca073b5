import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, REPO_ROOT, runCli, scratchDir } from '../support/test-env';

/** Pids of every live process in a process group (what a terminal's Ctrl-C reaches). */
function processGroup(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // Fields after the command name (which may hold spaces): state, ppid, pgrp, …
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out; output so far:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
  });
}

describe('npm start', () => {
  const stateDir = scratchDir('npm-start');
  let infra: NodeJS.ProcessEnv = {};
  afterAll(async () => {
    await runCli(['infra', 'down'], infra); // only matters when the test failed half-way
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts a broker and every service with /health/ready answering 200; Ctrl-C leaves no process behind', async () => {
    const ports = {
      command: await freePort(),
      query: await freePort(),
      gateway: await freePort(),
    };
    // A broker of its own, so this run shows npm start bringing the infrastructure up and down.
    infra = {
      ORDERSTREAM_STATE_DIR: stateDir,
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      KAFKA_CONTROLLER_PORT: String(await freePort()),
      KAFKA_HEAP: '256m',
    };
    const child = spawn('npm', ['start'], {
      cwd: REPO_ROOT,
      detached: true, // its own process group, like a terminal's foreground job
      env: {
        ...process.env,
        ...infra,
        COMMAND_API_PORT: String(ports.command),
        QUERY_API_PORT: String(ports.query),
        PAYMENT_GATEWAY_PORT: String(ports.gateway),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pgid = child.pid as number;
    try {
      const output = await waitForOutput(child, /press Ctrl-C to stop/, 90_000);
      expect(output).toMatch(new RegExp(`command-api +http://127.0.0.1:${ports.command} +ready`));
      expect(output).toMatch(new RegExp(`query-api +http://127.0.0.1:${ports.query} +ready`));
      expect(output).toMatch(
        new RegExp(`payment-gateway +http://127.0.0.1:${ports.gateway} +ready`),
      );
      expect(output).toMatch(/projectors +running/);
      for (const port of [ports.command, ports.query, ports.gateway]) {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        expect(res.status).toBe(200);
      }
      expect(output).toMatch(/kafka: started broker \(pid \d+\)/);
      const brokerPid = Number(fs.readFileSync(path.join(stateDir, 'kafka', 'broker.pid'), 'utf8'));
      expect(processGroup(pgid).length).toBeGreaterThanOrEqual(3);

      const exit = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
      );
      process.kill(-pgid, 'SIGINT');
      // npm re-raises the SIGINT it got once its script has exited; node exits 0.
      expect(['SIGINT', 'code 0']).toContain(await exit);
      const deadline = Date.now() + 15_000;
      while (processGroup(pgid).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(processGroup(pgid)).toEqual([]);
      // The broker runs in its own session (so Ctrl-C cannot half-kill it); npm start stopped it.
      expect(() => process.kill(brokerPid, 0)).toThrow();
      await expect(fetch(`http://127.0.0.1:${ports.query}/health/live`)).rejects.toThrow();
      await expect(fetch(`http://127.0.0.1:${ports.gateway}/health/live`)).rejects.toThrow();
    } finally {
      if (processGroup(pgid).length > 0) process.kill(-pgid, 'SIGKILL');
    }
  });
});
