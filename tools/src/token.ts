// `pnpm token --user <id> [--scope admin] [--expires 1h]`: prints a client JWT signed with
// the development secret, which the development gateway accepts.
import { exitWith } from '@trellis/config';
import { DEV_AUTH, mintClientToken } from '@trellis/identity';

function flag(name: string): string[] {
  const values: string[] = [];
  const argv = process.argv.slice(2);
  argv.forEach((arg, i) => {
    if (arg === `--${name}` && argv[i + 1] !== undefined) values.push(argv[i + 1] as string);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  });
  return values;
}

const [user] = flag('user');
if (!user || !/^[1-9]\d*$/.test(user)) exitWith('usage: pnpm token --user <id> [--scope admin] [--expires 1h]');
const token = await mintClientToken({
  userId: user,
  scopes: flag('scope'),
  secret: DEV_AUTH.clientSecret,
  issuer: DEV_AUTH.issuer,
  audience: DEV_AUTH.audience,
  expiresIn: flag('expires')[0] ?? '1h',
});
process.stdout.write(`${token}\n`);
