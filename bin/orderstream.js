#!/usr/bin/env node
// The `orderstream` command: runs the TypeScript CLI through tsx, no build step needed.
require('tsx/cjs');
require('../cli/main.ts');
