// Test helpers shared by every service: a fresh database per test file, a subgraph started
// in-process on an ephemeral port with its SQL statements counted, and a GraphQL client.
import { randomBytes } from 'node:crypto';
import { postgres, withDatabase } from '@trellis/db';
import { seedPlan } from '@trellis/db/seed';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the server at `serverUrl`; `drop()` removes it. */
export async function createTestDatabase(serverUrl: string, prefix = 'trellis_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(withDatabase(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    name,
    async drop() {
      const sql = postgres(withDatabase(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}

/** The small deterministic data set tests run on: 50 users, 100 products, 1,000 reviews. */
export const TEST_SEED = seedPlan(0.05);

/** Records SQL statements (with parameters); pass `counter.onQuery` to a subgraph. */
export class StatementCounter {
  statements: string[] = [];
  params: (readonly unknown[])[] = [];
  readonly onQuery = (query: string, params: readonly unknown[] = []): void => {
    this.statements.push(query);
    this.params.push(params);
  };
  get count(): number {
    return this.statements.length;
  }
  reset(): void {
    this.statements = [];
    this.params = [];
  }
}

export interface GraphQLResponse<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

/** POSTs a GraphQL operation and returns status, headers and the parsed JSON body. */
export async function graphql<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: GraphQLResponse<TData>['body'];
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`Non-JSON response (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** EXPLAINs a recorded statement with its parameters and returns the plan tree. */
export async function explain(sql: postgres.Sql, query: string, params: readonly unknown[]): Promise<PlanNode> {
  const rows = await sql.unsafe(`explain (format json) ${query}`, params as never[]);
  return (rows[0] as unknown as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
}

/** Every node of a plan tree. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/**
 * EXPLAINs every SELECT the counter recorded and returns those whose plan reads a table
 * with a sequential scan (each as "relation: statement"). `allow` exempts statements that
 * must read every row whatever the index (an unfiltered exact count).
 */
export async function sequentialScans(
  sql: postgres.Sql,
  counter: StatementCounter,
  options: { allow?: (query: string) => boolean } = {},
): Promise<string[]> {
  const found: string[] = [];
  for (const [index, query] of counter.statements.entries()) {
    if (!/^\s*select/i.test(query) || options.allow?.(query)) continue;
    const plan = await explain(sql, query, counter.params[index] ?? []);
    for (const node of planNodes(plan)) {
      if (node['Node Type'] === 'Seq Scan') found.push(`${node['Relation Name']}: ${query.replace(/\s+/g, ' ')}`);
    }
  }
  return found;
}

/**
 * Polls `probe` every 50 ms until `done(value)`; returns that value, or throws with the last
 * value after `timeoutMs`. For state that another process changes (workers, queues).
 */
export async function until<T>(
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
