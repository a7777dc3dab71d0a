// `pnpm --silent run dev:token --user <id> [--scope admin] [--expires 1h]`: prints a client
// JWT signed with the development secret, which the development gateway accepts. (Not
// `token`: pnpm reserves that name for npm's command; tools/test/script-names.test.ts.)
// The arguments are read before @trellis/identity loads, so `--help` answers at once.
import { parseCommand, usageError } from '@trellis/config/cli';

const SPEC = {
  command: 'pnpm --silent run dev:token',
  usage: '--user <id> [--scope admin]… [--expires 1h]',
  help: `Prints a development JWT for user <id> (with the given scopes) that the development gateway accepts:
  Authorization: Bearer <token>

  --user <id>       the user's id (a positive integer; required)
  --scope <scope>   a scope to grant, e.g. admin (repeatable)
  --expires <time>  lifetime such as 30m, 1h (default) or 7d`,
  options: {
    user: { type: 'string' },
    scope: { type: 'string', multiple: true },
    expires: { type: 'string' },
  },
} as const;

const { values } = parseCommand(SPEC);
if (values.user === undefined) usageError(SPEC, '--user is required');
if (!/^[1-9]\d*$/.test(values.user)) usageError(SPEC, `--user must be a positive integer (got '${values.user}')`);
if (values.expires !== undefined && !/^\d+\s?[smhd]$/.test(values.expires))
  usageError(SPEC, `--expires must be a duration such as 30m, 1h or 7d (got '${values.expires}')`);
const { DEV_AUTH, mintClientToken } = await import('@trellis/identity');
const token = await mintClientToken({
  userId: values.user,
  scopes: values.scope ?? [],
  secret: DEV_AUTH.clientSecret,
  issuer: DEV_AUTH.issuer,
  audience: DEV_AUTH.audience,
  expiresIn: values.expires ?? '1h',
});
process.stdout.write(`${token}\n`);
