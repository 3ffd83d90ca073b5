/** `npm run test:cluster`: tests against a private three-broker cluster (replication factor 3),
 *  apart from `npm test` because three brokers and a broker failure take a few minutes. */
const fs = require('node:fs');

fs.mkdirSync(`${__dirname}/.orderstream`, { recursive: true });

/** @type {import('jest').Config} */
module.exports = {
  displayName: 'cluster',
  rootDir: __dirname,
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  // One at a time: each test loads the same three brokers.
  maxWorkers: 1,
  testTimeout: 300000,
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
};
