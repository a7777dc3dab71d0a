// Test environment: the only place the testing package reads process.env.
import { common, loadEnv } from '@trellis/config';

export const testEnv = loadEnv({ DATABASE_URL: common.DATABASE_URL.optional() });
