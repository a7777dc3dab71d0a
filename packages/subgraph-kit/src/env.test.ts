import { DEFAULT_JOBS_POOL_MAX } from '@trellis/jobs/pool';
import { describe, expect, it } from 'vitest';
import { workerEnv } from './env.ts';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('workerEnv', () => {
  it('sizes the handlers pool from DB_POOL_MAX (8 by default)', () => {
    expect(workerEnv(4105, base).DB_POOL_MAX).toBe(8);
    expect(workerEnv(4105, { ...base, DB_POOL_MAX: '3' }).DB_POOL_MAX).toBe(3);
  });

  it("caps pg-boss's own pool at JOBS_POOL_MAX (DEFAULT_JOBS_POOL_MAX = 5 by default), whatever the concurrency", () => {
    expect(DEFAULT_JOBS_POOL_MAX).toBe(5);
    expect(workerEnv(4105, base).JOBS_POOL_MAX).toBe(DEFAULT_JOBS_POOL_MAX);
    expect(workerEnv(4105, { ...base, JOBS_POOL_MAX: '2' }).JOBS_POOL_MAX).toBe(2);
  });
});
