// Benchmark: keyset vs OFFSET pagination with one million reviews, and SQL statements per
// request vs page size. `pnpm bench:pagination` (uses DATABASE_URL's server, database
// trellis_bench, seeded at scale 50 on first run: ~1 minute). Results: docs/benchmarks.md.
import { fmt, machine, parseBenchArgs, percentile, time, writeSection } from './lib.ts';

parseBenchArgs({
  command: 'pnpm bench:pagination',
  usage: '',
  help: `Keyset vs OFFSET pagination with one million reviews, and SQL statements per request vs page
size, on DATABASE_URL's server in the database trellis_bench (seeded at scale 50 on the first
run: about a minute). Writes the pagination section of docs/benchmarks.md. Takes no arguments.`,
  options: {},
});

// Loaded only once the arguments are good: `--help` and refusals answer without them.
const { createDatabase, postgres, withDatabase } = await import('@trellis/db');
const { seedPlan } = await import('@trellis/db/seed');
const { encodeCursor } = await import('@trellis/relay');
const { startSubgraph } = await import('@trellis/subgraph-kit');
const { graphql, StatementCounter } = await import('@trellis/testing');
const { subgraph: reviews } = await import('../subgraphs/reviews/src/service.ts');
const { prepareSubgraph } = await import('../tools/src/subgraphs.ts');
const { benchEnv } = await import('./env.ts');

const PAGE = 20;
const DEEP_PAGES = 10_000;
const RUNS = 200;

const serverUrl = benchEnv.DATABASE_URL;
const url = withDatabase(serverUrl, 'trellis_bench');
const admin = postgres(withDatabase(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
if ((await admin`select 1 from pg_database where datname = 'trellis_bench'`).length === 0) {
  await admin.unsafe('create database trellis_bench');
}
await admin.end();

const plan = seedPlan(50);
const check = createDatabase({
  url,
  schema: reviews.schema,
  applicationName: 'bench',
  max: 2,
  statementTimeoutMs: 600_000,
});
await prepareSubgraph(reviews as never, url);
const countReviews = async () =>
  ((await check.sql`select count(*)::int as n from reviews.reviews`) as unknown as [{ n: number }])[0].n;
if ((await countReviews()) < plan.reviews) {
  process.stdout.write(`seeding ${plan.reviews} reviews (scale 50)…\n`);
  await reviews.seed(check, plan);
}
const n = await countReviews();
await check.sql`vacuum analyze reviews.reviews`;

const counter = new StatementCounter();
const service = await startSubgraph(reviews, {
  port: 0,
  databaseUrl: url,
  nodeEnv: 'production',
  onQuery: counter.onQuery,
});
await service.ready;
const endpoint = `${service.url}/graphql`;

// The cursor after page 9,999 (the last row before page 10,000), newest first.
const skip = (DEEP_PAGES - 1) * PAGE;
const [edge] =
  await check.sql`select id, created_at from reviews.reviews order by created_at desc, id desc offset ${skip - 1} limit 1`;
const deepCursor = encodeCursor('CREATED_AT:DESC', edge!.created_at as Date, Number(edge!.id));

const QUERY = `query($after: String) { reviews(first: ${PAGE}, after: $after) { edges { cursor node { id rating createdAt } } pageInfo { hasNextPage } } }`;
const gqlFirst = await time(() => graphql(endpoint, QUERY), RUNS);
const gqlDeep = await time(() => graphql(endpoint, QUERY, { after: deepCursor }), RUNS);

// The same pages straight in SQL: keyset (what the subgraph sends) vs OFFSET.
const { sql } = check;
const keysetFirst = await time(
  () => sql`select * from reviews.reviews order by created_at desc, id desc limit ${PAGE + 1}`,
  RUNS,
);
const keysetDeep = await time(
  () => sql`select * from reviews.reviews where (created_at, id) < (${edge!.created_at}, ${edge!.id})
    order by created_at desc, id desc limit ${PAGE + 1}`,
  RUNS,
);
const offsetFirst = await time(
  () => sql`select * from reviews.reviews order by created_at desc, id desc offset 0 limit ${PAGE + 1}`,
  RUNS,
);
const offsetDeep = await time(
  () => sql`select * from reviews.reviews order by created_at desc, id desc offset ${skip} limit ${PAGE + 1}`,
  40,
);

// Statements per request vs page size: Product.reviews for a page of N products.
const NESTED = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { averageRating reviewCount reviews(first: 5) { totalCount edges { node { id } } } } } }`;
const statementRows: string[] = [];
for (const size of [1, 10, 100]) {
  const r = Array.from({ length: size }, (_, i) => ({ __typename: 'Product', id: String(i + 1) }));
  counter.reset();
  await graphql(endpoint, NESTED, { r });
  const count = counter.count;
  const samples = await time(() => graphql(endpoint, NESTED, { r }), 100);
  statementRows.push(`| ${size} | ${count} | ${fmt(percentile(samples, 50))} |`);
}

await service.stop();
await check.close();

const p50 = (s: number[]) => percentile(s, 50);
const ratio = (a: number[], b: number[]) => (p50(a) / p50(b)).toFixed(2);
const report = `## Pagination: keyset vs OFFSET (issue 3)

${new Date().toISOString().slice(0, 10)} · ${machine()} · \`pnpm bench:pagination\` ·
${n.toLocaleString('en-US')} reviews · page size ${PAGE} · newest first · page ${DEEP_PAGES.toLocaleString('en-US')} = after ${skip.toLocaleString('en-US')} rows · ${RUNS} runs each (OFFSET deep: 40).

| what | page 1 p50 (ms) | page ${DEEP_PAGES.toLocaleString('en-US')} p50 (ms) | deep / first |
|---|---|---|---|
| \`Query.reviews\` through the subgraph (HTTP, keyset) | ${fmt(p50(gqlFirst))} | ${fmt(p50(gqlDeep))} | **${ratio(gqlDeep, gqlFirst)}** |
| SQL keyset \`(created_at, id) < ($1, $2) … limit 21\` | ${fmt(p50(keysetFirst))} | ${fmt(p50(keysetDeep))} | **${ratio(keysetDeep, keysetFirst)}** |
| SQL \`OFFSET n LIMIT 21\` (for comparison; never used) | ${fmt(p50(offsetFirst))} | ${fmt(p50(offsetDeep))} | ${ratio(offsetDeep, offsetFirst)} |

Target: keyset deep/first ≤ 1.2. p99 through the subgraph: page 1 ${fmt(percentile(gqlFirst, 99))} ms, page ${DEEP_PAGES.toLocaleString('en-US')} ${fmt(percentile(gqlDeep, 99))} ms.

SQL statements per request vs page size (\`Product.reviews(first: 5)\` with \`averageRating\`, \`reviewCount\` and \`totalCount\` for N products, reviews subgraph):

| products | statements | p50 (ms) |
|---|---|---|
${statementRows.join('\n')}
`;
writeSection('pagination', report);
process.stdout.write(report);
process.exit(0);
