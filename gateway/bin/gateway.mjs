#!/usr/bin/env node
// Runs the gateway from any working directory: registers tsx (resolved from here, not from
// the cwd), then loads the TypeScript entry point. Flags are those of `pnpm gateway`.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
