// Three tiers by file name: *.test.ts in-process, *.int.test.ts against real Postgres,
// *.e2e.test.ts through the whole graph. `pnpm test` runs all three.
import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', '**/dist/**', '**/.data/**'];
const globalSetup = ['./packages/testing/src/global-setup.ts'];

export default defineConfig({
  test: {
    // The JSON report feeds the totals line of .ci/run.
    reporters: ['default', ['json', { outputFile: '.run/test-results.json' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude,
          globalSetup,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude,
          globalSetup,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
