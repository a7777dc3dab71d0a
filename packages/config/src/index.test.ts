import { describe, expect, it } from 'vitest';
import { common, EnvError, parseEnv } from './index.ts';

const shape = { PORT: common.PORT.default(4000), DATABASE_URL: common.DATABASE_URL, NODE_ENV: common.NODE_ENV };

describe('parseEnv', () => {
  it('parses valid values and applies defaults', () => {
    const env = parseEnv(shape, { DATABASE_URL: 'postgres://u@localhost:5432/db' });
    expect(env).toEqual({ PORT: 4000, DATABASE_URL: 'postgres://u@localhost:5432/db', NODE_ENV: 'development' });
  });

  it('names a malformed DATABASE_URL in one line', () => {
    expect(() => parseEnv(shape, { DATABASE_URL: 'mysql://nope' })).toThrowError(
      /^Invalid environment: DATABASE_URL must be a postgres:\/\/ URL with a host \(got "mysql:\/\/nope"\)$/,
    );
  });

  it('names a missing required variable', () => {
    expect(() => parseEnv(shape, {})).toThrowError('Invalid environment: DATABASE_URL is required (unset)');
  });

  it('rejects a port that is not a port', () => {
    for (const bad of ['abc', '70000', '-1', '1.5']) {
      let error: unknown;
      try {
        parseEnv(shape, { DATABASE_URL: 'postgres://h/db', PORT: bad });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(EnvError);
      expect((error as Error).message).toMatch(/^Invalid environment: PORT .*\n?$/);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('treats empty strings as unset', () => {
    expect(parseEnv(shape, { DATABASE_URL: 'postgres://h/db', PORT: '' }).PORT).toBe(4000);
  });
});
