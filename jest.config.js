/**
 * Jest, two projects: `unit` (the *.test.ts beside the code in agent/, controller/, shared/; fast, in-process)
 * and `integration` (test/: real processes, namespaces, TLS). `npm run test:unit` runs the first alone;
 * `npm test` runs both.
 */
const common = {
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/node_modules/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['<rootDir>/test/helpers/no-product-console.ts'],
};

module.exports = {
  // A global option: jest ignores testTimeout inside a project.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/agent', '<rootDir>/controller', '<rootDir>/shared'],
      testMatch: ['**/*.test.ts'],
    },
    { ...common, displayName: 'integration', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'] },
  ],
  // Integration tests start real processes and namespaces; two workers fit a 2-core CI machine.
  maxWorkers: process.env.CI ? 2 : '50%',
};
