// Three tiers by file name: *.test.ts in-process, *.int.test.ts against real Postgres,
// *.e2e.test.ts through the whole graph. `pnpm test` runs all three.
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Node resolves `graphql` to its CommonJS build (the one Apollo loads); Vite would pick the
// ESM build and schema objects would cross two graphql realms. Pin Node's choice (projects
// below `extends: true` so they inherit it).
const graphqlMain = createRequire(import.meta.url).resolve('graphql', { paths: ['./gateway'] });

// The load, fault and fuzz suites run only through vitest.suites.config.ts.
const exclude = ['**/node_modules/**', '**/dist/**', '**/.data/**', 'tools/suites/**'];
const globalSetup = ['./packages/testing/src/global-setup.ts'];

export default defineConfig({
  // Resolve packages as Node does (`main`, not `module`): graphql ships both builds and
  // Apollo loads the CommonJS one; two copies would make schema objects cross realms.
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlMain }] },
  test: {
    // The JSON report feeds the totals line of .ci/run.
    reporters: ['default', ['json', { outputFile: '.run/test-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        extends: true,
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
        extends: true,
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude,
          // The bundles the production command runs (spawnDeployed), built once when stale.
          globalSetup: [...globalSetup, './tools/test/global-build.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
