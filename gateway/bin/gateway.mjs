#!/usr/bin/env node
// Runs the gateway from any working directory: registers tsx (resolved from here, not from
// the cwd), starts telemetry before anything it instruments is imported (as
// `node --import @trellis/telemetry/setup` does for the other services), then loads the
// TypeScript entry point. Flags are those of `pnpm gateway`.
import { register } from 'tsx/esm/api';

register();
await import('@trellis/telemetry/setup');
await import('../src/main.ts');
