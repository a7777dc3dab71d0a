// The load, fault and fuzz suites (`pnpm test:load`, `pnpm test:faults`, `pnpm test:fuzz`):
// real processes under load for minutes, so never part of `pnpm test`. One file at a time
// (they measure; two at once would skew each other), results written to docs/reliability.md.
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const graphqlMain = createRequire(import.meta.url).resolve('graphql', { paths: ['./gateway'] });
// The gateway runs its production command (spawnDeployed): its bundle is built once when stale.
const globalSetup = ['./packages/testing/src/global-setup.ts', './tools/test/global-build.ts'];
const suite = (name: string) => ({
  extends: true as const,
  test: {
    name,
    include: [`tools/suites/**/*.${name === 'faults' ? 'fault' : name}.test.ts`],
    globalSetup,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlMain }] },
  test: {
    fileParallelism: false,
    projects: [suite('load'), suite('faults'), suite('fuzz')],
  },
});
