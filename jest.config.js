/** Two projects: fast unit tests beside the code, integration tests against the real broker,
 *  Postgres and Redis (their global setup brings the infrastructure up for this run). */
const fs = require('node:fs');

// `npm test` writes jest's JSON results here (CI's summary line reads them).
fs.mkdirSync(`${__dirname}/.orderstream`, { recursive: true });

const transform = { '^.+\\.ts$': ['@swc/jest'] };

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // Integration tests start brokers and servers; unit tests finish far sooner.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      transform,
      testEnvironment: 'node',
      testMatch: [
        '<rootDir>/{lib,domain,schemas,command-api,query-api,projectors,read-models,sagas,infra,cli}/**/*.test.ts',
      ],
    },
    {
      displayName: 'integration',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
