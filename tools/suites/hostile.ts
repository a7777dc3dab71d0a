// Hostile inputs for the fuzz suite: a seeded, reproducible corpus (fast-check samples)
// per category — malformed bodies, wrong content types and methods, invalid GraphQL,
// deep/wide/aliased/cyclic documents, wrong and odd variables, oversized strings, forged
// cursors, bad JWTs, bad traceparent headers, batch arrays; and the findings of issue 16:
// variables and extensions nested thousands deep, NUL and lone surrogates in every text
// input, impossible and out-of-range dates, headers past 16 KB.
import { DEV_AUTH, mintClientToken } from '@trellis/identity';
import { sign } from '@trellis/signing';
import fc from 'fast-check';
import { BAD_VALUES, textInputCases } from '../src/text-inputs.ts';

export interface HostileInput {
  category: string;
  /**
   * What the answer must be beyond the general contract: a typed refusal with this status
   * and code (never a 200, never INTERNAL_SERVER_ERROR). Issue 16's categories set it.
   */
  refusal?: { status: number; code: string };
  method: string;
  headers: Record<string, string>;
  body?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const post = (category: string, body: unknown, headers: Record<string, string> = {}): HostileInput => ({
  category,
  method: 'POST',
  headers: { ...JSON_TYPE, ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const sample = <T>(arb: fc.Arbitrary<T>, count: number, seed: number): T[] => fc.sample(arb, { numRuns: count, seed });

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** An HS256 JWT over `payload`, signed with `secret` (to forge expired or misaddressed tokens). */
function hs256(payload: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256' }) {
  const unsigned = `${b64(header)}.${b64(payload)}`;
  return `${unsigned}.${sign(secret, unsigned, { encoding: 'base64url' })}`;
}

const FIELDS = ['id', 'name', 'price', 'weight', 'description', 'inStock', 'averageRating', 'reviewCount'];
const now = () => Math.floor(Date.now() / 1000);

/** The corpus: `scale` 1 gives about 10,200 inputs. */
export async function hostileInputs(seed = 20261201, scale = 1): Promise<HostileInput[]> {
  const n = (count: number) => Math.max(1, Math.round(count * scale));
  const inputs: HostileInput[] = [];

  // Malformed JSON: random text, truncated documents, JSON that is not a request object.
  const valid = JSON.stringify({ query: '{ products(first: 2) { edges { node { id } } } }' });
  inputs.push(
    ...sample(fc.string({ maxLength: 200 }), n(500), seed).map((s) => post('malformed-json', s)),
    ...sample(fc.nat({ max: valid.length - 1 }), n(400), seed + 1).map((cut) =>
      post('malformed-json', valid.slice(0, cut)),
    ),
    ...sample(fc.json({ maxDepth: 4 }), n(400), seed + 2).map((json) => post('malformed-json', json)),
    ...sample(
      fc.record({ query: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object()) }),
      n(200),
      seed + 3,
    ).map((body) => post('malformed-json', body)),
  );

  // Content types and methods the endpoint does not take.
  const types = [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    '',
    'application/json; charset=utf-16',
    'application/graphql',
    'application/x-www-form-urlencoded',
  ];
  inputs.push(
    ...sample(
      fc.tuple(fc.constantFrom(...types), fc.constantFrom(valid, 'query=%7B%7D', '<q/>', '')),
      n(500),
      seed + 4,
    ).map(([type, body]) => ({
      category: 'content-type',
      method: 'POST',
      headers: (type ? { 'content-type': type } : {}) as Record<string, string>,
      body,
    })),
    ...sample(fc.constantFrom('PUT', 'DELETE', 'PATCH', 'GET', 'OPTIONS'), n(200), seed + 5).map((method) => ({
      category: 'method',
      method,
      headers: {},
      body: method === 'GET' || method === 'OPTIONS' ? undefined : valid,
    })),
  );

  // Invalid GraphQL: token soup, unknown fields, bad arguments.
  const tokens = [
    '{',
    '}',
    '(',
    ')',
    '...',
    'query',
    'mutation',
    'fragment',
    'on',
    '$x',
    ':',
    '@skip',
    'products',
    'product',
    'id',
    '"s"',
    '1',
    '[',
    ']',
    '=',
    '!',
    '#',
    '\\u0000',
    'subscription',
  ];
  inputs.push(
    ...sample(fc.array(fc.constantFrom(...tokens), { maxLength: 40 }), n(700), seed + 6).map((parts) =>
      post('invalid-graphql', { query: parts.join(' ') }),
    ),
    ...sample(fc.string({ maxLength: 100 }), n(400), seed + 7).map((query) => post('invalid-graphql', { query })),
    ...sample(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom(...FIELDS)), n(400), seed + 8).map(
      ([field, known]) =>
        post('invalid-graphql', {
          query: `{ products(first: 1) { edges { node { ${known} ${field.replace(/[^A-Za-z_]/g, '') || 'nope'} } } } }`,
        }),
    ),
  );

  // Deep, wide, alias-heavy and cyclic documents.
  inputs.push(
    ...sample(fc.integer({ min: 8, max: 300 }), n(500), seed + 9).map((depth) =>
      post('deep', {
        query: `{ product(id: "1") { ${'reviews(first: 2) { edges { node { product { '.repeat(depth)} id ${'} } } } '.repeat(depth)} } }`,
      }),
    ),
    ...sample(fc.integer({ min: 20, max: 3000 }), n(500), seed + 10).map((aliases) =>
      post('wide', {
        query: `{ ${Array.from({ length: aliases }, (_, i) => `a${i}: product(id: "${(i % 100) + 1}") { id }`).join(' ')} }`,
      }),
    ),
    ...sample(fc.integer({ min: 2, max: 30 }), n(300), seed + 11).map((k) =>
      post('fragment-cycle', {
        query: `{ product(id: "1") { ...F0 } } ${Array.from({ length: k }, (_, i) => `fragment F${i} on Product { id ...F${(i + 1) % k} }`).join(' ')}`,
      }),
    ),
  );

  // Wrong, huge and odd variables.
  const odd = fc.oneof(
    fc.string({ maxLength: 50 }),
    fc.integer(),
    fc.double(),
    fc.constant(2 ** 53),
    fc.constant(-1),
    fc.constant(1e308),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 5 }),
    fc.object({ maxDepth: 2 }),
  );
  inputs.push(
    ...sample(fc.tuple(odd, odd, odd), n(1000), seed + 12).map(([first, after, filter]) =>
      post('variables', {
        query:
          'query Catalogue($first: Int, $after: String, $filter: ProductFilter) { products(first: $first, after: $after, filter: $filter) { edges { node { id } } } }',
        variables: { first, after, filter },
      }),
    ),
    ...sample(fc.oneof(odd, fc.constant('not-an-object')), n(300), seed + 13).map((variables) =>
      post('variables', { query: 'query P($id: ID!) { product(id: $id) { id } }', variables }),
    ),
    ...sample(fc.tuple(odd, fc.integer({ min: -5, max: 10 }), odd), n(200), seed + 14).map(
      ([productId, rating, body]) =>
        post('variables', {
          query:
            'mutation R($input: AddReviewInput!) { addReview(input: $input) { review { id } userErrors { code } } }',
          variables: { input: { productId, rating, body } },
        }),
    ),
  );

  // Oversized strings: bodies past the limit, and long strings inside it.
  inputs.push(
    ...sample(fc.integer({ min: 1_000_001, max: 3_000_000 }), n(60), seed + 15).map((size) =>
      post('oversized', { query: `{ product(id: "1") { id } } #${'x'.repeat(size)}` }),
    ),
    ...sample(fc.integer({ min: 10_000, max: 900_000 }), n(140), seed + 16).map((size) =>
      post('oversized', {
        query: 'query S($s: String) { products(first: 2, filter: { search: $s }) { edges { node { id } } } }',
        variables: { s: 'é'.repeat(size / 2) },
      }),
    ),
  );

  // Forged and garbled cursors, forward and backward.
  const cursor = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.base64String({ maxLength: 80 }),
    fc.json().map((j) => Buffer.from(j).toString('base64url')),
    fc.tuple(fc.integer(), fc.string()).map(([a, b]) => Buffer.from(`${a}:${b}`).toString('base64')),
    fc.constant(Buffer.from('{"k":["1e999"],"id":"1 or 1=1"}').toString('base64url')),
  );
  inputs.push(
    ...sample(fc.tuple(cursor, fc.boolean(), fc.constantFrom('products', 'reviews')), n(1200), seed + 17).map(
      ([c, forward, list]) =>
        post('cursor', {
          query:
            list === 'products'
              ? `query C($c: String) { products(${forward ? 'first: 3, after' : 'last: 3, before'}: $c) { edges { cursor } } }`
              : `query C($c: String) { product(id: "1") { reviews(${forward ? 'first: 3, after' : 'last: 3, before'}: $c) { edges { cursor } } } }`,
          variables: { c },
        }),
    ),
  );

  // Bad JWTs: alg none, wrong key, expired, not yet valid, wrong audience, garbage.
  const claims = {
    sub: '1',
    iss: DEV_AUTH.issuer,
    aud: DEV_AUTH.audience,
    iat: now(),
    exp: now() + 3600,
    scope: 'admin',
  };
  const wrongKey = await mintClientToken({
    userId: '1',
    scopes: ['admin'],
    secret: 'not-the-secret-at-all',
    issuer: DEV_AUTH.issuer,
    audience: DEV_AUTH.audience,
  });
  const jwts = fc.oneof(
    fc.constant(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`),
    fc.constant(wrongKey),
    fc.constant(hs256({ ...claims, exp: now() - 60 }, DEV_AUTH.clientSecret)),
    fc.constant(hs256({ ...claims, nbf: now() + 3600 }, DEV_AUTH.clientSecret)),
    fc.constant(hs256({ ...claims, aud: 'someone-else' }, DEV_AUTH.clientSecret)),
    fc.constant(hs256({ ...claims, sub: 42 }, DEV_AUTH.clientSecret)),
    fc.constant(hs256(claims, DEV_AUTH.clientSecret, { alg: 'RS256' })),
    fc.string({ maxLength: 300 }).map((s) => s.replace(/[^\x21-\x7e]/g, '')),
    fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((parts) => parts.join('.')),
  );
  inputs.push(
    ...sample(fc.tuple(jwts, fc.constantFrom('Bearer ', 'bearer ', 'Basic ', '')), n(1200), seed + 18).map(
      ([token, scheme]) => post('jwt', { query: '{ me { id email } }' }, { authorization: `${scheme}${token}` }),
    ),
  );

  // Bad trace context headers: the request must still be served.
  inputs.push(
    ...sample(fc.tuple(fc.string({ maxLength: 120 }), fc.string({ maxLength: 200 })), n(600), seed + 19).map(
      ([traceparent, tracestate]) =>
        post(
          'traceparent',
          { query: '{ product(id: "2") { id name } }' },
          {
            traceparent: traceparent.replace(/[^\x20-\x7e]/g, ''),
            tracestate: tracestate.replace(/[^\x20-\x7e]/g, ''),
          },
        ),
    ),
  );

  // Deep JSON (issue 16): variables or extensions nested past the edge's bound, up to thousands
  // of levels (it overflowed JSON.stringify in the cache keys: an anonymous 500).
  const badInput = { status: 400, code: 'BAD_USER_INPUT' };
  const nest = (depth: number, array: boolean) =>
    array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  inputs.push(
    ...sample(
      fc.tuple(fc.integer({ min: 33, max: 20_000 }), fc.boolean(), fc.constantFrom('variables', 'extensions')),
      n(200),
      seed + 21,
    ).map(([depth, array, part]) => ({
      ...post('deep-json', `{"query":"{ __typename }","${part}":{"x":${nest(depth, array)}}}`),
      refusal: badInput,
    })),
  );

  // Text (issue 16): every String, ID and DateTime input of every subgraph's SDL with each bad
  // value (NUL, lone surrogates, impossible dates), then random text around NUL and surrogates.
  const admin = await mintClientToken({
    userId: '1',
    scopes: ['admin'],
    secret: DEV_AUTH.clientSecret,
    issuer: DEV_AUTH.issuer,
    audience: DEV_AUTH.audience,
  });
  const auth = { authorization: `Bearer ${admin}` };
  for (const c of textInputCases())
    inputs.push({
      ...post(c.scalar === 'DateTime' ? 'dates' : 'text', { query: c.query, variables: c.variables }, auth),
      refusal: badInput,
    });
  const poisoned = fc
    .tuple(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('\u0000', '\ud800', '\udfff', '\udbff'),
      fc.string({ maxLength: 20 }),
    )
    .map(([a, bad, b]) => `${a}${bad}${b}`);
  inputs.push(
    ...sample(fc.tuple(poisoned, fc.boolean()), n(200), seed + 22).map(([search, literal]) => ({
      ...post(
        'text',
        // A lone surrogate escape is a GraphQL syntax error: literals carry NUL only.
        literal && search.includes('\u0000')
          ? { query: `{ products(first: 1, filter: { search: ${JSON.stringify(search)} }) { edges { cursor } } }` }
          : {
              query: 'query S($s: String) { products(first: 1, filter: { search: $s }) { edges { cursor } } }',
              variables: { s: search },
            },
      ),
      refusal: badInput,
    })),
  );
  const badDate = fc.oneof(
    fc.constantFrom(...BAD_VALUES.DateTime),
    fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 29, max: 32 }))
      .filter(([year, month, day]) => {
        const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
        const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
        return year === 0 || month === 0 || month > 12 || day > days;
      })
      .map(
        ([year, month, day]) =>
          `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T00:00:00Z`,
      ),
  );
  inputs.push(
    ...sample(badDate, n(200), seed + 23).map((d) => ({
      ...post(
        'dates',
        {
          query: 'query D($d: DateTime) { me { orders(first: 1, filter: { createdAfter: $d }) { edges { cursor } } } }',
          variables: { d },
        },
        auth,
      ),
      refusal: badInput,
    })),
  );

  // Headers past Node's 16 KB limit (issue 16): a typed 431, not an empty body.
  inputs.push(
    ...sample(fc.integer({ min: 17_000, max: 60_000 }), n(50), seed + 24).map((size) => ({
      ...post('huge-headers', { query: '{ __typename }' }, { 'x-filler': 'x'.repeat(size) }),
      refusal: { status: 431, code: 'BAD_REQUEST' },
    })),
  );

  // Batches, which the gateway does not accept.
  inputs.push(
    ...sample(fc.integer({ min: 0, max: 50 }), n(400), seed + 20).map((size) =>
      post(
        'batch',
        Array.from({ length: size }, (_, i) => ({ query: `{ product(id: "${i + 1}") { id } }` })),
      ),
    ),
  );
  return inputs;
}
