// Every kind of breaking change graphql-js reports maps to the coordinates whose use it breaks.
import { diffSchemas } from '@trellis/composition/changes';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { classifyChanges, coordinatesOf, hasCoordinate } from './classify.ts';
import type { UsageSnapshot } from './snapshot.ts';

const before = buildSchema(`
  directive @tag(name: String) on FIELD
  interface Node { id: ID! }
  type A implements Node { id: ID! x(n: Int, m: Int): Int k: Int }
  type B { y: Int }
  union U = A | B
  enum E { ONE TWO }
  input I { a: Int }
  type Gone { z: Int }
  type Query { a(id: ID): A b: B u: U e(v: E): E g: Gone i(in: I): Int }
`);
const after = buildSchema(`
  interface Node { id: ID! }
  type A { id: ID! x(n: String): Int k: String }
  union B = A
  union U = A
  enum E { ONE }
  input I { a: Int b: Int! }
  type Query { a(id: ID, req: Int!): A b: B u: U e(v: E): E i(in: I): Int }
`);

describe('coordinatesOf', () => {
  it('maps each breaking change to what it breaks', () => {
    const mapped = Object.fromEntries(
      diffSchemas('supergraph', before, after)
        .filter((c) => c.severity === 'breaking')
        .map((c) => [`${c.type} ${c.description}`, coordinatesOf(c)]),
    );
    expect(mapped).toMatchObject({
      'TYPE_REMOVED Gone was removed.': ['Gone'],
      'FIELD_REMOVED Query.g was removed.': ['Query.g'],
      'TYPE_CHANGED_KIND B changed from an Object type to a Union type.': ['B'],
      'TYPE_REMOVED_FROM_UNION B was removed from union type U.': ['B'],
      'VALUE_REMOVED_FROM_ENUM TWO was removed from enum type E.': ['E.TWO', 'E'],
      'REQUIRED_INPUT_FIELD_ADDED A required field b on input type I was added.': ['I'],
      'IMPLEMENTED_INTERFACE_REMOVED A no longer implements interface Node.': ['Node'],
      'FIELD_CHANGED_KIND A.k changed type from Int to String.': ['A.k'],
      'ARG_REMOVED A.x arg m was removed.': ['A.x(m:)'],
      'ARG_CHANGED_KIND A.x arg n has changed type from Int to String.': ['A.x(n:)'],
      'REQUIRED_ARG_ADDED A required arg req on Query.a was added.': ['Query.a'],
    });
    expect(coordinatesOf({ type: 'DIRECTIVE_REMOVED', description: '@tag was removed.' })).toBeUndefined();
  });

  it('classifies used, safe, acknowledged and unverified changes', () => {
    const changes = diffSchemas('supergraph', before, after).filter((c) =>
      ['Query.g was removed.', 'A.k changed type from Int to String.', 'TWO was removed from enum type E.'].includes(
        c.description,
      ),
    );
    const usage: UsageSnapshot = {
      format: 'trellis-usage-snapshot',
      version: 1,
      source: 'test',
      generatedAt: '2026-12-01T00:00:00Z',
      since: '2026-11-01T00:00:00Z',
      windowDays: 30,
      totalRequests: 7,
      operations: [
        {
          hash: 'h',
          name: 'GetK',
          type: 'query',
          coordinates: ['Query.a', 'A.k'],
          clients: [{ name: 'web', version: '2', requests: 7, errors: 0, lastSeen: '2026-11-30T10:00:00.000Z' }],
        },
      ],
    };
    const ack = new Set(['supergraph: VALUE_REMOVED_FROM_ENUM TWO was removed from enum type E.']);
    const verdicts = Object.fromEntries(
      classifyChanges(changes, ack, usage, []).map((c) => [c.description, c.verdict]),
    );
    expect(verdicts).toEqual({
      'Query.g was removed.': 'safe',
      'A.k changed type from Int to String.': 'used',
      'TWO was removed from enum type E.': 'acknowledged',
    });
    const none = classifyChanges(changes, new Set(), undefined, [
      { client: 'app', operation: 'G', coordinates: ['Query.g'] },
    ]);
    expect(Object.fromEntries(none.map((c) => [c.description, c.verdict]))).toEqual({
      'Query.g was removed.': 'used',
      'A.k changed type from Int to String.': 'unverified',
      'TWO was removed from enum type E.': 'unverified',
    });
  });

  it("passes a subgraph's change to what the composed API schema still serves, when there is usage data", () => {
    expect(['A', 'A.x', 'A.x(n:)', 'E.ONE', 'I.a', 'Node.id'].filter((c) => hasCoordinate(after, c))).toEqual([
      'A',
      'A.x',
      'A.x(n:)',
      'E.ONE',
      'I.a',
      'Node.id',
    ]);
    expect(['Gone', 'A.x(m:)', 'E.TWO', 'A.nope', 'Query.a(nope:)'].some((c) => hasCoordinate(after, c))).toBe(false);
    const subgraph = diffSchemas('subgraph a', before, after).filter((c) =>
      ['Gone was removed.', 'A.x arg m was removed.'].includes(c.description),
    );
    const usage: UsageSnapshot = {
      format: 'trellis-usage-snapshot',
      version: 1,
      source: 'test',
      generatedAt: '2026-12-01T00:00:00Z',
      since: '2026-11-01T00:00:00Z',
      windowDays: 30,
      totalRequests: 1,
      operations: [
        {
          hash: 'h',
          name: 'Both',
          type: 'query',
          coordinates: ['Gone', 'A.x(m:)'],
          clients: [{ name: 'web', version: '2', requests: 1, errors: 0, lastSeen: '2026-11-30T10:00:00.000Z' }],
        },
      ],
    };
    // `before` still has both: as if another subgraph served them in the composed API schema.
    const verdicts = classifyChanges(subgraph, new Set(), usage, [], before).map((c) => [c.description, c.verdict]);
    expect(verdicts).toEqual([
      ['Gone was removed.', 'safe'],
      ['A.x arg m was removed.', 'safe'],
    ]);
    // Gone from the API schema too: used, so it fails; without usage data, the old rule.
    expect(classifyChanges(subgraph, new Set(), usage, [], after).map((c) => c.verdict)).toEqual(['used', 'used']);
    expect(classifyChanges(subgraph, new Set(), undefined, [], before).map((c) => c.verdict)).toEqual([
      'unverified',
      'unverified',
    ]);
  });
});
