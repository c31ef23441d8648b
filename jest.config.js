const { swcOptions, moduleNameMapper } = require('./tools/swc-options.cjs');

const common = {
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions({ rewritePaths: false })] },
  moduleNameMapper: moduleNameMapper(),
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
};

/** Three layers: pure unit specs, integration specs against the real local NATS/Postgres/Redis, and e2e over HTTP. */
module.exports = {
  // Per-project testTimeout is ignored by jest; integration and e2e specs need more than 5 s.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,deploy}/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.js',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.js',
    },
  ],
};
