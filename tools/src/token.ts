// `pnpm --silent run dev:token --user <id> [--scope admin] [--expires 1h]`: prints a client
// JWT signed with the development secret, which the development gateway accepts. (Not
// `token`: pnpm reserves that name for npm's command; tools/test/script-names.test.ts.)
import { parseArgs } from 'node:util';
import { exitWith } from '@trellis/config';
import { DEV_AUTH, mintClientToken } from '@trellis/identity';

const USAGE = 'usage: pnpm --silent run dev:token --user <id> [--scope admin]… [--expires 1h]';

let values: { user?: string | undefined; scope?: string[] | undefined; expires?: string | undefined; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      user: { type: 'string' },
      scope: { type: 'string', multiple: true },
      expires: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(
    `${USAGE}\n\nPrints a development JWT for user <id> (with the given scopes) that the development gateway accepts:\n` +
      '  Authorization: Bearer <token>\n',
  );
  process.exit(0);
}
if (!values.user || !/^[1-9]\d*$/.test(values.user)) exitWith(USAGE);
if (values.expires !== undefined && !/^\d+\s?[smhd]$/.test(values.expires))
  exitWith(`--expires must be a duration such as 30m, 1h or 7d (got "${values.expires}")`);
const token = await mintClientToken({
  userId: values.user,
  scopes: values.scope ?? [],
  secret: DEV_AUTH.clientSecret,
  issuer: DEV_AUTH.issuer,
  audience: DEV_AUTH.audience,
  expiresIn: values.expires ?? '1h',
});
process.stdout.write(`${token}\n`);
