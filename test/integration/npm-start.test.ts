import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable, isAlive } from '../../infra/process-control';
import { freePort, REPO_ROOT, runCli, scratchDir } from '../support/test-env';

/** Every live (not zombie) process: its pid, parent and process group, from /proc. */
function liveProcesses(): { pid: number; ppid: number; pgrp: number }[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        // Fields after the command name (which may hold spaces): state, ppid, pgrp, …
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' ? [] : [{ pid: Number(pid), ppid: Number(ppid), pgrp: Number(pgrp) }];
      } catch {
        return [];
      }
    });
}

/** Pids of every live process in a process group (what a terminal's Ctrl-C reaches). */
const processGroup = (pgid: number): number[] =>
  liveProcesses()
    .filter((p) => p.pgrp === pgid)
    .map((p) => p.pid);

/** The pids whose parent is `pid`. */
const childrenOf = (pid: number): number[] =>
  liveProcesses()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);

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

/**
 * A `mvn` that waits before running the real one: a Maven fetch that takes its time, as on a
 * machine whose Maven cache is empty. `infra up` probes Postgres and Redis meanwhile.
 */
function slowMaven(dir: string, seconds: number): string {
  const mvn = findExecutable('mvn');
  if (!mvn) throw new Error('this test needs Maven (mvn) on PATH');
  const bin = path.join(dir, 'slow-maven-bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'mvn'), `#!/bin/sh\nsleep ${seconds}\nexec '${mvn}' "$@"\n`, {
    mode: 0o755,
  });
  return bin;
}

describe('npm start', () => {
  const stateDir = scratchDir('npm-start');
  let infra: NodeJS.ProcessEnv = {};
  afterAll(async () => {
    await runCli(['infra', 'down'], infra); // only matters when the test failed half-way
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  // The README's first command on a fresh clone: no broker jars yet, so Maven fetches them
  // (slowly), while the machine's PostgreSQL and Redis already run and must be found, not
  // replaced by private servers on their ports.
  it('from a fresh clone fetches the broker jars, finds the running Postgres and Redis, starts every service with /health/ready answering 200; Ctrl-C leaves no process behind', async () => {
    const ports = {
      command: await freePort(),
      query: await freePort(),
      gateway: await freePort(),
      projectors: await freePort(),
      sagas: await freePort(),
    };
    // A broker of its own, so this run shows npm start bringing the infrastructure up and down.
    infra = {
      ORDERSTREAM_STATE_DIR: stateDir,
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      KAFKA_CONTROLLER_PORT: String(await freePort()),
      KAFKA_HEAP: '256m',
      KAFKA_JARS_DIR: path.join(stateDir, 'fresh-jars'),
    };
    // Longer than the Postgres and Redis probes wait: a fetch that blocked the event loop
    // (spawnSync) would make them time out and `npm start` fail.
    const slowMavenBin = slowMaven(stateDir, 8);
    const child = spawn('npm', ['start'], {
      cwd: REPO_ROOT,
      detached: true, // its own process group, like a terminal's foreground job
      env: {
        ...process.env,
        ...infra,
        PATH: `${slowMavenBin}${path.delimiter}${process.env.PATH}`,
        COMMAND_API_PORT: String(ports.command),
        QUERY_API_PORT: String(ports.query),
        PAYMENT_GATEWAY_PORT: String(ports.gateway),
        PROJECTORS_PORT: String(ports.projectors),
        SAGAS_PORT: String(ports.sagas),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pgid = child.pid as number;
    try {
      const output = await waitForOutput(child, /press Ctrl-C to stop/, 240_000);
      expect(output).toContain('kafka: fetching the broker jars');
      expect(
        fs.readdirSync(infra.KAFKA_JARS_DIR as string).some((f) => f.startsWith('kafka_2.13-')),
      ).toBe(true);
      // The machine's PostgreSQL and Redis were found, not replaced.
      expect(output).not.toMatch(/started a private|port \d+ is taken/);
      expect(output).toMatch(new RegExp(`command-api +http://127.0.0.1:${ports.command} +ready`));
      expect(output).toMatch(new RegExp(`query-api +http://127.0.0.1:${ports.query} +ready`));
      expect(output).toMatch(
        new RegExp(`payment-gateway +http://127.0.0.1:${ports.gateway} +ready`),
      );
      expect(output).toMatch(new RegExp(`projectors +http://127.0.0.1:${ports.projectors} +ready`));
      expect(output).toMatch(new RegExp(`sagas +http://127.0.0.1:${ports.sagas} +ready`));
      // Not a terminal: the services' log lines are JSON, unprefixed (pino-pretty reads them).
      expect(output).toMatch(/^\{"level":30,.*"name":"sagas".*"msg":"sagas running"/m);
      for (const port of Object.values(ports)) {
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
  }, 300_000);
});

const commandLine = (pid: number) =>
  fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();

describe('npm run start:<service>', () => {
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    // Only matters when the test failed half-way: npm, a shell, the service, and its pipes.
    const descendants = (pid: number): number[] =>
      childrenOf(pid).flatMap((child) => [child, ...descendants(child)]);
    for (const npm of spawned) {
      for (const pid of descendants(npm.pid as number)) process.kill(pid, 'SIGKILL');
      npm.kill('SIGKILL');
      npm.stdout?.destroy();
      npm.stderr?.destroy();
    }
  });

  // A supervisor holds the pid it started; a shell between npm and the service would keep the
  // service running after that pid is stopped.
  it("runs the service as npm's own child: stopping npm stops the service, and SIGKILL of that child ends it", async () => {
    const port = await freePort();
    const start = () => {
      const npm = spawn('npm', ['run', 'start:payment-gateway'], {
        cwd: REPO_ROOT,
        env: { ...process.env, PAYMENT_GATEWAY_PORT: String(port), LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      spawned.push(npm);
      return { npm, listening: waitForOutput(npm, /payment-gateway listening/, 60_000) };
    };
    const live = () =>
      fetch(`http://127.0.0.1:${port}/health/live`).then(
        () => true,
        () => false,
      );
    const until = async (condition: () => Promise<boolean>) => {
      const deadline = Date.now() + 15_000;
      while (!(await condition()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    };

    const first = start();
    await first.listening;
    const [service] = childrenOf(first.npm.pid as number);
    expect(commandLine(service as number)).toMatch(
      /^node --import tsx infra\/payment-gateway\/main\.ts/,
    );
    first.npm.kill('SIGTERM'); // what a supervisor or `kill` sends to the pid it holds
    await until(async () => !isAlive(service as number));
    expect(isAlive(service as number)).toBe(false);
    expect(await live()).toBe(false);

    const second = start();
    await second.listening;
    const [again] = childrenOf(second.npm.pid as number);
    process.kill(again as number, 'SIGKILL');
    await until(async () => !(await live()));
    expect(await live()).toBe(false);
    await new Promise((resolve) =>
      second.npm.exitCode !== null ? resolve(undefined) : second.npm.once('exit', resolve),
    );
  });
});
