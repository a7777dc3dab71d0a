import { describe, expect, it } from 'vitest';
import { workerEnv } from './env.ts';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('workerEnv', () => {
  it('sizes the handlers pool from DB_POOL_MAX (8 by default)', () => {
    expect(workerEnv(4105, base).DB_POOL_MAX).toBe(8);
    expect(workerEnv(4105, { ...base, DB_POOL_MAX: '3' }).DB_POOL_MAX).toBe(3);
  });
});
