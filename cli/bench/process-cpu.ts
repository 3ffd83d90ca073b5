import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * CPU time of processes from /proc/<pid>/stat (utime + stime), so the bench can say how much
 * CPU each part of the stack spent on a window of work.
 */

/** The name and CPU clock ticks (user + system) in one /proc/<pid>/stat line. */
export function parseStat(line: string): { name: string; ticks: number } | undefined {
  // The name is in parentheses and may itself hold spaces or parentheses: cut at the last ')'.
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { name: line.slice(open + 1, close), ticks: utime + stime };
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux nearly always). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

function readStat(pid: number): { name: string; ticks: number } | undefined {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

/** CPU milliseconds `pid` has used so far; undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat && (stat.ticks * 1000) / clockTicks();
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Pids of the processes whose name (comm) is one of `names`, e.g. every `postgres` backend. */
export function pidsNamed(...names: string[]): number[] {
  return allPids().filter((pid) => {
    const name = readStat(pid)?.name;
    return name !== undefined && names.includes(name);
  });
}

/** Pids whose command line contains every one of `parts`. */
export function pidsWithCommandLine(...parts: string[]): number[] {
  return allPids().filter((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      return parts.every((part) => cmdline.includes(part));
    } catch {
      return false;
    }
  });
}

/** A part of the stack whose CPU is measured: the processes that make it up right now. */
export interface CpuTarget {
  name: string;
  pids: () => number[];
}

/** CPU ms per target, and per pid (so processes that start later count from zero). */
export type CpuSnapshot = Map<string, Map<number, number>>;

export function snapshotCpu(targets: CpuTarget[]): CpuSnapshot {
  return new Map(
    targets.map((t) => [
      t.name,
      new Map(
        t.pids().flatMap((pid) => {
          const ms = cpuMs(pid);
          return ms === undefined ? [] : [[pid, ms] as const];
        }),
      ),
    ]),
  );
}

/**
 * CPU ms each target used between two snapshots. A process that started in between counts
 * whole; one that ended in between is lost (its time cannot be read any more).
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [name, pids] of after) {
    let ms = 0;
    for (const [pid, now] of pids) ms += Math.max(0, now - (before.get(name)?.get(pid) ?? 0));
    used[name] = Math.round(ms);
  }
  return used;
}
