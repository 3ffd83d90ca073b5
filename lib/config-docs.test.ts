import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES } from './config';

describe('README configuration table', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

  it('lists every variable the config module reads, and no other', () => {
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});
