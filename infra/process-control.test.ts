import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isLoopback, runningPid } from './process-control';

describe('runningPid', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pidfile-'));
  const file = path.join(dir, 'x.pid');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds a live process whose command line has the marker', () => {
    fs.writeFileSync(file, `${process.pid}\n`);
    expect(runningPid(file, 'node')).toBe(process.pid);
  });

  it('ignores a pid now used by another program, so `down` never stops it', () => {
    fs.writeFileSync(file, `${process.pid}\n`);
    expect(runningPid(file, 'kafka.Kafka')).toBeUndefined();
  });

  it('ignores a missing file, garbage, and a dead pid', () => {
    expect(runningPid(path.join(dir, 'none.pid'), 'node')).toBeUndefined();
    fs.writeFileSync(file, 'garbage');
    expect(runningPid(file, 'node')).toBeUndefined();
    fs.writeFileSync(file, '99999999');
    expect(runningPid(file, 'node')).toBeUndefined();
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['localhost', true],
    ['::1', true],
    ['kafka', false],
    ['192.0.2.1', false],
  ])('%s → %p', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});
