// Benchmarks' environment: the only place they read process.env.
import { common, loadEnv } from '@trellis/config';

export const benchEnv = loadEnv({
  DATABASE_URL: common.DATABASE_URL.default('postgres://postgres@127.0.0.1:5432/postgres'),
});
