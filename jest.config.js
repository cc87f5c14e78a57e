// One jest for the whole repository: each project is a part of the architecture.
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
];
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  setupFiles: ['<rootDir>/test/jest-preload.js'],
};

/** @type {import('jest').Config} */
module.exports = {
  // A leaked handle must never hang CI: leaks of processes, containers and databases are
  // asserted by tests of their own (checker/test), not by waiting for jest to notice.
  forceExit: true,
  // Two workers on the 2-core CI machine (jest's default there is one: every suite in turn).
  // Most suites wait on Postgres, Redis, SMTP and app processes rather than compute, so two run
  // side by side in about the time of one; more would starve the timing-sensitive checks.
  maxWorkers: 2,
  projects: [
    {
      ...base,
      displayName: 'reference-app',
      roots: ['<rootDir>/reference-app/test'],
      testMatch: ['**/*.test.ts'],
    },
    {
      ...base,
      displayName: 'checker',
      roots: ['<rootDir>/checker/test'],
      testMatch: ['**/*.test.ts'],
    },
    { ...base, displayName: 'course', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'] },
  ],
};
