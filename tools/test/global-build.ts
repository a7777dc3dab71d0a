// Vitest global setup of the e2e tier and the suites: builds every bundle that is missing or
// stale (`pnpm build --if-stale`), once, before any test starts a service with its production
// command (spawnDeployed), so no two tests build at once.
import { buildTarget, buildTargets, staleReason } from '../src/build.ts';

export default async function setup(): Promise<void> {
  for (const target of buildTargets()) if (staleReason(target)) await buildTarget(target);
}
