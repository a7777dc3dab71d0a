// Identity through the real gateway: client JWTs verified, identity forwarded signed,
// @authenticated and @requiresScopes enforced before any subgraph is asked.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createViewerSigner, DEV_AUTH, IDENTITY_HEADER } from '@trellis/identity';
import { graphql } from '@trellis/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';
import { ROOT } from '../../tools/src/workspace.ts';
import { type RunningGateway, startGateway } from '../src/index.ts';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
});
afterAll(async () => {
  await graph?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const key = new TextEncoder().encode(DEV_AUTH.clientSecret);
function token(claims: { sub?: string; iss?: string; aud?: string; exp?: number }, secret = key) {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (claims.sub) jwt.setSubject(claims.sub);
  jwt.setIssuer(claims.iss ?? DEV_AUTH.issuer).setAudience(claims.aud ?? DEV_AUTH.audience);
  jwt.setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600);
  return jwt.sign(secret);
}
function resetStatements() {
  for (const s of Object.values(graph.subgraphs)) s.statements.reset();
}
function statements() {
  return Object.values(graph.subgraphs).reduce((sum, s) => sum + s.statements.count, 0);
}

describe('client tokens', () => {
  it('answers me for a valid token and null when anonymous', async () => {
    const signedIn = await graphql(graph.url, '{ me { id name email } }', {}, bearer(await tokenFor(5)));
    expect(signedIn.body.errors).toBeUndefined();
    expect((signedIn.body.data as any).me).toMatchObject({ id: '5', email: expect.stringContaining('@example.com') });
    const anonymous = await graphql(graph.url, '{ me { id } }');
    expect(anonymous.body).toEqual({ data: { me: null } });
  });

  it('refuses expired, forged, alg-none, wrong-issuer and wrong-audience tokens with 401 before any subgraph', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ sub: '1', iss: DEV_AUTH.issuer, aud: DEV_AUTH.audience, exp: 9e9 }),
    ).toString('base64url');
    const cases: [string, RegExp][] = [
      [await token({ sub: '1', exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
      [await token({ sub: '1' }, new TextEncoder().encode('not-the-secret-at-all')), /signature/],
      [`${header}.${payload}.`, /not allowed|not valid/],
      [await token({ sub: '1', iss: 'someone-else' }), /"iss"/],
      [await token({ sub: '1', aud: 'another-api' }), /"aud"/],
      [await token({}), /"sub"/],
      ['not-a-jwt', /not valid/],
    ];
    for (const [jwt, reason] of cases) {
      resetStatements();
      const { status, body } = await graphql(graph.url, '{ me { id } }', {}, bearer(jwt));
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.errors?.[0]?.message).toMatch(reason);
      expect(statements()).toBe(0);
    }
    const malformed = await graphql(graph.url, '{ me { id } }', {}, { authorization: 'Basic abc' });
    expect(malformed.status).toBe(401);
  });

  it('never honours an identity header sent by the client', async () => {
    const forged = await createViewerSigner(DEV_AUTH.subgraphSecret)({ userId: '3', scopes: ['admin'] });
    const { body } = await graphql(graph.url, '{ me { id } }', {}, { [IDENTITY_HEADER]: forged });
    expect(body).toEqual({ data: { me: null } });
  });
});

describe('@authenticated and @requiresScopes', () => {
  const ADJUST =
    'mutation { adjustStock(input: { productId: "3", delta: 1 }) { product { id quantity } userErrors { code } } }';

  it('rejects an anonymous operation selecting an @authenticated field, with zero subgraph work', async () => {
    resetStatements();
    const { status, body } = await graphql(
      graph.url,
      '{ product(id: "1") { name } me { orders(first: 1) { totalCount } } }',
    );
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.errors?.[0]?.message).toContain('User.orders');
    expect(body.data).toBeUndefined();
    expect(statements()).toBe(0);
  });

  it('rejects a mutation needing the admin scope for a user without it (403), and runs it for an admin', async () => {
    resetStatements();
    const user = await graphql(graph.url, ADJUST, {}, bearer(await tokenFor(2)));
    expect(user.status).toBe(403);
    expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(user.body.errors?.[0]?.message).toContain('Mutation.adjustStock (admin)');
    expect(statements()).toBe(0);
    const admin = await graphql(graph.url, ADJUST, {}, bearer(await tokenFor(2, ['admin'])));
    expect(admin.body.errors).toBeUndefined();
    expect((admin.body.data as any).adjustStock.userErrors).toEqual([]);
  });

  it('lets a signed-in user add a review as themself', async () => {
    const { body } = await graphql(
      graph.url,
      'mutation { addReview(input: { productId: "2", rating: 5, body: "Great" }) { review { rating body author { id } } userErrors { code } } }',
      {},
      bearer(await tokenFor(9)),
    );
    expect(body.errors).toBeUndefined();
    expect((body.data as any).addReview).toEqual({
      review: { rating: 5, body: 'Great', author: { id: '9' } },
      userErrors: [],
    });
  });
});

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('client tokens from a JWKS (production)', () => {
  let jwks: Server;
  let gateway: RunningGateway;
  let privateKey: PrivateKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey as PrivateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    gateway = await startGateway(
      testGatewayConfig({
        nodeEnv: 'production',
        supergraphPath: graph.supergraphPath,
        auth: {
          jwksUrl,
          issuer: 'https://id.example',
          audience: 'trellis',
          required: false,
          subgraphSecret: DEV_AUTH.subgraphSecret,
        },
      }),
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    jwks?.close();
  });

  const rs256 = (key: PrivateKey | Uint8Array, alg = 'RS256') =>
    new SignJWT({})
      .setProtectedHeader({ alg, kid: 'k1' })
      .setSubject('4')
      .setIssuer('https://id.example')
      .setAudience('trellis')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  it('accepts a token signed by a key in the JWKS and refuses others', async () => {
    const url = `${gateway.url}/graphql`;
    const ok = await graphql(url, '{ me { id } }', {}, bearer(await rs256(privateKey)));
    expect(ok.body).toEqual({ data: { me: { id: '4' } } });
    const otherKey = (await generateKeyPair('RS256')).privateKey as PrivateKey;
    const forged = await graphql(url, '{ me { id } }', {}, bearer(await rs256(otherKey)));
    expect(forged.status).toBe(401);
    // A shared-secret token is not accepted when the gateway trusts a JWKS.
    const hs = await graphql(url, '{ me { id } }', {}, bearer(await rs256(key, 'HS256')));
    expect(hs.status).toBe(401);
  });
});

describe('pnpm --silent run dev:token', () => {
  // Through pnpm itself, as README says to run it (`pnpm token` is reserved by pnpm 12).
  const devToken = (...args: string[]) =>
    spawnSync('pnpm', ['--silent', 'run', 'dev:token', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('mints a token the development gateway accepts', async () => {
    const result = devToken('--user', '7', '--scope', 'admin');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const { body } = await graphql(graph.url, '{ me { id } }', {}, bearer(result.stdout.trim()));
    expect(body).toEqual({ data: { me: { id: '7' } } });
  });

  it('prints its usage on --help, refuses unknown flags and a missing user (2, with the usage line)', () => {
    const help = devToken('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: pnpm --silent run dev:token --user <id>');
    const unknown = devToken('--usr', '7');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--usr'");
    const missing = devToken();
    expect(missing.status).toBe(2);
    // pnpm adds its own ELIFECYCLE line after the tool's.
    expect(missing.stderr.split('\n').slice(0, 2)).toEqual([
      'pnpm --silent run dev:token: --user is required',
      'usage: pnpm --silent run dev:token --user <id> [--scope admin]… [--expires 1h]',
    ]);
  });
});
