// Client token verification: claims are checked by type, not only by presence.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClientVerifier, DEV_AUTH, mintClientToken } from './index.ts';

const verify = createClientVerifier({
  secret: DEV_AUTH.clientSecret,
  issuer: DEV_AUTH.issuer,
  audience: DEV_AUTH.audience,
}) as (token: string) => Promise<unknown>;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A correctly signed HS256 token with arbitrary claims. */
function signed(claims: Record<string, unknown>): string {
  const unsigned = `${b64({ alg: 'HS256' })}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', DEV_AUTH.clientSecret).update(unsigned).digest('base64url')}`;
}
const now = Math.floor(Date.now() / 1000);
const claims = { iss: DEV_AUTH.issuer, aud: DEV_AUTH.audience, iat: now, exp: now + 600, scope: 'admin' };

describe('createClientVerifier', () => {
  it('accepts a token minted for a user', async () => {
    const token = await mintClientToken({
      userId: '7',
      secret: DEV_AUTH.clientSecret,
      issuer: DEV_AUTH.issuer,
      audience: DEV_AUTH.audience,
    });
    await expect(verify(token)).resolves.toEqual({ userId: '7', scopes: [] });
    await expect(verify(signed({ ...claims, sub: '8' }))).resolves.toEqual({ userId: '8', scopes: ['admin'] });
  });

  // Found by the fuzz suite: a signed `"sub": 42` identified user 42.
  it.each([42, '', true, { id: '1' }, ['1'], null])('refuses a validly signed token whose sub is %j', async (sub) => {
    await expect(verify(signed({ ...claims, sub }))).rejects.toThrow(/claim "sub" is not valid|token is not valid/);
  });
});
