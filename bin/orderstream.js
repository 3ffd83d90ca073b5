#!/usr/bin/env node
// The `orderstream` command: runs the TypeScript CLI through tsx, no build step needed.
// Before anything queues work on libuv's thread pool (see lib/kafka/native-threads.ts).
process.env.UV_THREADPOOL_SIZE ??= '64';
require('tsx/cjs');
require('../cli/main.ts');
