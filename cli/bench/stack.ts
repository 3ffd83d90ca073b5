import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import { sleep } from '../../infra/process-control';
import type { Config } from '../../lib/config';
import { withNativeThreads } from '../../lib/kafka/native-threads';
import { CODE_ROOT, type ServiceProcess, serviceProcesses } from '../services';

// Compiled (dist/) run the .js files; from source, the .ts through tsx (as cli/start.ts does).
const RUNNING_COMPILED = __filename.endsWith('.js');

/** Ports the bench's services listen on: below Linux's ephemeral range (32768 and up). */
export const SERVICE_PORTS = { from: 20_000, to: 32_768 };

const handedOut = new Set<number>();

const listenable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * A free port for a service, outside the ephemeral range: the stack restarts on the same ports
 * (the tracing part six times), and an ephemeral port the OS handed out once could meanwhile be
 * some process's outgoing connection ("port … is in use" at a restart).
 */
export async function freePort(): Promise<number> {
  const span = SERVICE_PORTS.to - SERVICE_PORTS.from;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = SERVICE_PORTS.from + Math.floor(Math.random() * span);
    if (handedOut.has(port) || !(await listenable(port))) continue;
    handedOut.add(port); // none is listened on yet: a second pick must not return it again
    return port;
  }
  throw new Error(`no free port between ${SERVICE_PORTS.from} and ${SERVICE_PORTS.to}`);
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

interface Running {
  service: ServiceProcess;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * The whole stack (every process `npm start` runs) as children of the bench, with the run's
 * environment; their log lines go to one file. Stopped by pid, also when the bench fails.
 */
export class BenchStack {
  private readonly running: Running[] = [];
  private log: fs.WriteStream | undefined;
  /** Set once a service exited on its own: the run is no longer measuring a whole stack. */
  died: string | undefined;

  constructor(
    private readonly config: Config,
    private env: NodeJS.ProcessEnv,
    readonly logFile: string,
    /** Extra node options for every service (e.g. --cpu-prof). */
    private readonly nodeOptions: string[] = [],
  ) {}

  /** Service name → pid. */
  pids(): Map<string, number> {
    return new Map(
      this.running.flatMap((r) => (r.child.pid ? [[r.service.name, r.child.pid]] : [])),
    );
  }

  start(): void {
    const log = fs.createWriteStream(this.logFile, { flags: 'a' });
    this.log = log;
    for (const service of serviceProcesses(this.config)) {
      const args = [
        ...this.nodeOptions,
        ...(RUNNING_COMPILED
          ? [`${service.entry}.js`]
          : ['--import', 'tsx', `${service.entry}.ts`]),
      ];
      const child = spawn(process.execPath, args, {
        cwd: CODE_ROOT,
        env: withNativeThreads(this.env),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        readline
          .createInterface({ input: stream })
          .on('line', (line) => log.write(`[${service.name}] ${line}\n`));
      }
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.once('exit', (code, signal) => {
        log.write(`[${service.name}] exited (${signal ?? `code ${code}`})\n`);
        if (!this.stopping) this.died ??= `${service.name} exited (${signal ?? `code ${code}`})`;
      });
      this.running.push({ service, child, exited });
    }
  }

  /** Waits until every HTTP service answers /health/ready; throws naming those that do not. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(this.running.filter((r) => r.service.url));
    while (pending.size > 0 && Date.now() < deadline && !this.died) {
      for (const r of [...pending]) {
        try {
          const res = await fetch(`${r.service.url}/health/ready`, {
            signal: AbortSignal.timeout(2000),
          });
          if (res.ok) pending.delete(r);
        } catch {
          // not listening yet
        }
      }
      if (pending.size > 0) await sleep(500);
    }
    if (this.died) throw new Error(`${this.died} while starting; see ${this.logFile}`);
    if (pending.size > 0) {
      const names = [...pending].map((r) => r.service.name).join(', ');
      throw new Error(`not ready within ${timeoutMs / 1000} s: ${names}; see ${this.logFile}`);
    }
  }

  private stopping = false;

  /**
   * Stops every service and starts them again with `extra` added to their environment (e.g.
   * tracing on), forgetting the stopped ones.
   */
  async restart(extra: NodeJS.ProcessEnv): Promise<void> {
    await this.stop();
    this.running.length = 0;
    this.stopping = false;
    this.env = { ...this.env, ...extra };
    this.start();
  }

  /** SIGTERM to every child, SIGKILL to those still running after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    const alive = this.running.filter((r) => isRunning(r.child));
    for (const r of alive) r.child.kill('SIGTERM');
    const killAfter = setTimeout(() => {
      for (const r of alive) if (isRunning(r.child)) r.child.kill('SIGKILL');
    }, graceMs);
    await Promise.all(alive.map((r) => r.exited));
    clearTimeout(killAfter);
    const log = this.log;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}
