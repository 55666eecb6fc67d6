/** Jest: unit tests beside the code (*.test.ts), integration tests under test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/node_modules/'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // Integration tests start real processes and namespaces; two workers fit a 2-core CI machine.
  maxWorkers: process.env.CI ? 2 : '50%',
};
