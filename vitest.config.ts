import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests import sibling packages through the `@coldtier/source` export condition,
// so they run against `src/` without a build; consumers resolve `dist/`. Not the
// bundlers' `module` condition: Node never uses it, and the AWS SDK's `module`
// builds have extension-less imports that only a bundler resolves.
const conditions = ['@coldtier/source', ...defaultServerConditions.filter((c) => c !== 'module')];

const project = (name: string, dir: string) => ({
  extends: true as const,
  test: {
    name,
    root: dir,
    include: ['test/**/*.test.ts'],
  },
});

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    // chdb binds one data directory per process: every test file gets its own fork.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: [fileURLToPath(new URL('packages/test-support/src/global-setup.ts', import.meta.url))],
    reporters: ['default', fileURLToPath(new URL('packages/test-support/src/summary-reporter.ts', import.meta.url))],
    projects: [
      project('offload-core', 'packages/offload-core'),
      project('offload-metrics', 'packages/offload-metrics'),
      project('offload-diagnostics', 'packages/offload-diagnostics'),
      project('test-support', 'packages/test-support'),
      project('reference-scheduler', 'apps/reference-scheduler'),
    ],
  },
});
