import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { infraDown, infraUp } from '../infra/local-infra';
import { sleep } from '../infra/process-control';
import { loadConfig } from '../lib/config';
import { withNativeThreads } from '../lib/kafka/native-threads';
import { serviceOutput } from './service-output';
import { CODE_ROOT, type ServiceProcess, serviceProcesses } from './services';

const say = (line: string) => process.stdout.write(`${line}\n`);

// Compiled (dist/, e.g. in the Docker image) run the .js files; from source, the .ts through tsx.
const RUNNING_COMPILED = __filename.endsWith('.js');

function startService(service: ServiceProcess): ChildProcess {
  const args = RUNNING_COMPILED
    ? [`${service.entry}.js`]
    : ['--import', 'tsx', `${service.entry}.ts`];
  const child = spawn(process.execPath, args, {
    cwd: CODE_ROOT,
    env: withNativeThreads(process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = serviceOutput(service.name, process.stdout.isTTY === true);
  for (const [name, stream] of [
    ['stdout', child.stdout],
    ['stderr', child.stderr],
  ] as const) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => say(output(line, name)));
  }
  return child;
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return false;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * `npm start`: infrastructure up (when not already running), then every service; prints their
 * URLs; on Ctrl-C (or SIGTERM, or a service dying) stops the services and whatever
 * infrastructure this run started.
 */
export async function startEverything(): Promise<void> {
  const config = loadConfig();
  const { started } = await infraUp(config, say);
  const services = serviceProcesses(config);
  const children = services.map((service) => ({ service, child: startService(service) }));

  let stopping: Promise<void> | undefined;
  const stopAll = (exitCode: number) => {
    stopping ??= (async () => {
      say('stopping services…');
      for (const { child } of children) child.kill('SIGTERM');
      const killAfter = setTimeout(() => {
        for (const { child } of children) child.kill('SIGKILL');
      }, 15_000);
      await Promise.all(children.map(({ child }) => exited(child)));
      clearTimeout(killAfter);
      if (started.length > 0) await infraDown(config, say, started);
      process.exit(exitCode);
    })();
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  for (const { service, child } of children) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      say(`${service.name} exited (${signal ?? `code ${code}`}); stopping everything`);
      stopAll(1);
    });
  }

  const ready = await Promise.all(
    children.map(({ service }) => (service.url ? waitUntilReady(service.url, 60_000) : true)),
  );
  if (stopping) return;
  say('');
  services.forEach((service, i) => {
    const state = !service.url
      ? 'running'
      : ready[i]
        ? 'ready'
        : 'NOT READY (see its log lines above)';
    say(`  ${service.name.padEnd(16)} ${(service.url ?? '').padEnd(22)} ${state}`);
  });
  say('\norderstream is running; press Ctrl-C to stop.');
}
