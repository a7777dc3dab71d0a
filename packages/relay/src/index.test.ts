import { createHmac } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  type Ordering,
  type PageRequest,
  parsePageRequest,
  toConnection,
} from './index.ts';

const byPrice = { key: 'PRICE:ASC', type: 'number' as const };
const byDate = { key: 'CREATED_AT:DESC', type: 'date' as const };

function codeAndPath(fn: () => unknown): [unknown, unknown, string] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const e = error as GraphQLError;
    return [e.extensions.code, e.extensions.argumentPath, e.message];
  }
  throw new Error('expected an error');
}

describe('cursors', () => {
  it('round-trip numbers, strings and dates with the id', () => {
    expect(decodeCursor(encodeCursor('PRICE:ASC', 1299, 17), byPrice, 'after')).toEqual({ value: 1299, id: 17 });
    const date = new Date('2025-03-04T05:06:07.000Z');
    expect(decodeCursor(encodeCursor('CREATED_AT:DESC', date, '9'), byDate, 'after')).toEqual({ value: date, id: 9 });
  });

  it('are opaque: no readable sort value in the string', () => {
    expect(encodeCursor('NAME:ASC', 'Oak Chair', 3)).not.toContain('Oak');
  });

  it('reject tampered, truncated, forged and mismatched cursors as BAD_USER_INPUT', () => {
    const good = encodeCursor('PRICE:ASC', 1299, 17);
    const [payload, signature] = good.split('.') as [string, string];
    const edited = Buffer.from(JSON.stringify([1, 'PRICE:ASC', 1, 17])).toString('base64url');
    const forgedSig = createHmac('sha256', 'guess').update(edited).digest('base64url').slice(0, 12);
    const cases: [string, RegExp][] = [
      [`${edited}.${signature}`, /signature does not match/],
      [`${edited}.${forgedSig}`, /signature does not match/],
      [good.slice(0, -3), /signature does not match/],
      [payload, /malformed/],
      ['', /malformed/],
      ['a.b.c', /malformed/],
      ['x'.repeat(600), /too long/],
    ];
    for (const [cursor, message] of cases) {
      const [code, path, text] = codeAndPath(() => decodeCursor(cursor, byPrice, 'after'));
      expect(code).toBe('BAD_USER_INPUT');
      expect(path).toEqual(['after']);
      expect(text).toMatch(message);
    }
    const [code, , text] = codeAndPath(() => decodeCursor(good, { key: 'PRICE:DESC', type: 'number' }, 'before'));
    expect(code).toBe('BAD_USER_INPUT');
    expect(text).toMatch(/issued for ordering PRICE:ASC, not PRICE:DESC/);
  });

  it('reject a signed cursor whose value has the wrong type for the ordering', () => {
    const cursor = encodeCursor('PRICE:ASC', 'not-a-number', 1);
    expect(codeAndPath(() => decodeCursor(cursor, byPrice, 'after'))[0]).toBe('BAD_USER_INPUT');
  });
});

describe('page arguments', () => {
  it('default to the first 20, forward', () => {
    expect(parsePageRequest({}, byPrice)).toEqual({ travel: 'forward', size: 20, cursor: null });
  });

  it('accept last/before for backward travel', () => {
    const before = encodeCursor('PRICE:ASC', 10, 2);
    expect(parsePageRequest({ last: 5, before }, byPrice)).toEqual({
      travel: 'backward',
      size: 5,
      cursor: { value: 10, id: 2 },
    });
  });

  it('reject negative, over-limit, non-integer and conflicting arguments', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ first: -1 }, ['first']],
      [{ first: 101 }, ['first']],
      [{ last: 1000 }, ['last']],
      [{ first: 2.5 }, ['first']],
      [{ first: 1, last: 1 }, ['last']],
      [{ last: 1, after: encodeCursor('PRICE:ASC', 1, 1) }, ['after']],
      [{ first: 1, before: encodeCursor('PRICE:ASC', 1, 1) }, ['before']],
    ];
    for (const [args, path] of cases) {
      const [code, argumentPath] = codeAndPath(() => parsePageRequest(args, byPrice));
      expect(code).toBe('BAD_USER_INPUT');
      expect(argumentPath).toEqual(path);
    }
    expect(parsePageRequest({ first: 100 }, byPrice).size).toBe(100);
    expect(parsePageRequest({ first: 0 }, byPrice).size).toBe(0);
  });
});

describe('toConnection', () => {
  const ordering = {
    key: 'PRICE:ASC',
    value: (r: { p: number }) => r.p,
    id: (r: { id: number }) => r.id,
  } as unknown as Ordering<{ p: number; id: number }>;
  const rows = [1, 2, 3].map((n) => ({ p: n * 10, id: n }));

  it('uses the extra row to know hasNextPage when travelling forward', () => {
    const page: PageRequest = { travel: 'forward', size: 2, cursor: null };
    const connection = toConnection(rows, ordering, page, () => 3);
    expect(connection.edges.map((e) => e.node.id)).toEqual([1, 2]);
    expect(connection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(connection.pageInfo.endCursor).toBe(connection.edges[1]?.cursor);
  });

  it('reverses a backward scan and reports hasPreviousPage', () => {
    const page: PageRequest = { travel: 'backward', size: 2, cursor: { value: 40, id: 4 } };
    const scanned = [...rows].reverse();
    const connection = toConnection(scanned, ordering, page, () => 3);
    expect(connection.edges.map((e) => e.node.id)).toEqual([2, 3]);
    expect(connection.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('has null start and end cursors on an empty page', () => {
    const connection = toConnection([], ordering, { travel: 'forward', size: 5, cursor: { value: 1, id: 1 } }, () => 0);
    expect(connection.pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: true,
      startCursor: null,
      endCursor: null,
    });
  });
});
