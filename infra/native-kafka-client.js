#!/usr/bin/env node
// postinstall: builds the native Kafka client (@confluentinc/kafka-javascript, librdkafka) against
// the system's libraries. Its own install script would download a prebuilt binary or zlib/OpenSSL
// sources, which many machines cannot reach, so package.json's allowScripts skips it and this
// builds it instead (about 2 minutes, once). Without the build tools or libraries, orderstream
// runs on kafkajs (pure JavaScript); nothing fails. Plain Node, no dependencies: it runs before
// anything else is usable. `--force` rebuilds.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkgDir = path.join(root, 'node_modules', '@confluentinc', 'kafka-javascript');
const binary = path.join(pkgDir, 'build', 'Release', 'confluent-kafka-javascript.node');
const logFile = path.join(root, '.orderstream', 'native-kafka-client-build.log');
const force = process.argv.includes('--force');
const say = (line) => process.stdout.write(`orderstream: ${line}\n`);

// Debian/Ubuntu package names of what the build links against, with a header each provides.
const libraries = [
  ['zlib1g-dev', '/usr/include/zlib.h'],
  ['libssl-dev', '/usr/include/openssl/ssl.h'],
  ['libzstd-dev', '/usr/include/zstd.h'],
  ['liblz4-dev', '/usr/include/lz4.h'],
  ['libsasl2-dev', '/usr/include/sasl/sasl.h'],
];
const tools = ['make', 'g++', 'python3'];

function loads() {
  const probe = spawnSync(process.execPath, ['-e', "require('@confluentinc/kafka-javascript')"], {
    cwd: root,
    stdio: 'ignore',
  });
  return probe.status === 0;
}

function onPath(tool) {
  return (process.env.PATH || '')
    .split(path.delimiter)
    .some((dir) => fs.existsSync(path.join(dir, tool)));
}

function main() {
  if (process.env.ORDERSTREAM_SKIP_NATIVE_KAFKA === '1') return;
  if (!fs.existsSync(pkgDir)) return; // optional dependency not installed (e.g. --omit=optional)
  if (!force && fs.existsSync(binary) && loads()) return;
  const missing = [
    ...libraries.filter(([, header]) => !fs.existsSync(header)).map(([pkg]) => pkg),
    ...tools.filter((tool) => !onPath(tool)),
  ];
  if (missing.length > 0) {
    say(
      `native Kafka client not built (missing ${missing.join(', ')}): orderstream uses kafkajs. ` +
        'To build it: apt-get install -y zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev build-essential python3 && npm run build:kafka-native',
    );
    return;
  }
  say(
    'building the native Kafka client (librdkafka) against the system libraries, about 2 minutes…',
  );
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'w');
  const nodePreGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [pkgDir] });
  const build = spawnSync(process.execPath, [nodePreGyp, 'rebuild', '--build-from-source'], {
    cwd: pkgDir,
    env: { ...process.env, CKJS_LINKING: 'dynamic' },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  if (build.status === 0 && loads()) {
    say('native Kafka client built: KAFKA_CLIENT=auto uses it.');
  } else {
    say(
      `native Kafka client build failed (see ${path.relative(root, logFile)}): orderstream uses kafkajs.`,
    );
  }
}

main();
