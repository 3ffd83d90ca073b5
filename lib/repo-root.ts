import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder holding orderstream's package.json, whether this code runs from source (through
 * tsx) or compiled in dist/: local state and the broker jars live there, not under dist/.
 */
function findRepoRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start, '..');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(__dirname);
