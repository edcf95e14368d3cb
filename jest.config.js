/**
 * Jest runs every workspace's tests as native ES modules through ts-jest (transpile only; `npm run lint`
 * type-checks). Start it through `npm test`, which sets NODE_OPTIONS=--experimental-vm-modules.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, diagnostics: false }],
  },
  roots: [
    '<rootDir>/lib-ml',
    '<rootDir>/lib-version',
    '<rootDir>/lib-service',
    '<rootDir>/pipeline',
    '<rootDir>/model-service',
    '<rootDir>/app',
    '<rootDir>/ops/helm',
    '<rootDir>/ops/canary',
    '<rootDir>/ops/cluster',
    '<rootDir>/test',
  ],
  testMatch: ['**/test/**/*.test.ts'],
  testTimeout: 120000,
  // Two test files at a time even on 2 cores (Jest's default is cores - 1): most long suites wait on
  // child processes (DVC, Prometheus, the services), so the whole run takes about 8 instead of 14 minutes.
  maxWorkers: 2,
};
