import { describe, expect, it } from 'vitest';
import { boundsProblem, DEFAULT_INPUT_BOUNDS, parseDateTime, textProblem } from './input.ts';

describe('boundsProblem', () => {
  it('measures any depth without recursion and refuses past the bound', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    expect(boundsProblem(deep, DEFAULT_INPUT_BOUNDS)).toMatch(/deeper than 32/);
    let ok: unknown = 1;
    for (let i = 0; i < 32; i++) ok = [ok];
    expect(boundsProblem(ok, DEFAULT_INPUT_BOUNDS)).toBeUndefined();
    expect(boundsProblem([ok], DEFAULT_INPUT_BOUNDS)).toMatch(/deeper/);
  });

  it('counts values', () => {
    expect(
      boundsProblem(
        Array.from({ length: 10_000 }, () => 1),
        DEFAULT_INPUT_BOUNDS,
      ),
    ).toMatch(/more than 10000/);
    expect(
      boundsProblem(
        Array.from({ length: 9_999 }, () => 1),
        DEFAULT_INPUT_BOUNDS,
      ),
    ).toBeUndefined();
    expect(boundsProblem(undefined, DEFAULT_INPUT_BOUNDS)).toBeUndefined();
  });
});

describe('textProblem', () => {
  it('refuses NUL and unpaired surrogates, accepts pairs', () => {
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('a\ud800b')).toMatch(/surrogate/);
    expect(textProblem('\udc00')).toMatch(/surrogate/);
    expect(textProblem('emoji 😀 é')).toBeUndefined();
  });
});

describe('parseDateTime', () => {
  it.each([
    ['2026-02-28T10:20:30Z', '2026-02-28T10:20:30.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-01-01T00:00:00.123456+02:00', '2025-12-31T22:00:00.123Z'],
    ['2026-01-01T12:00', '2026-01-01T12:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['0099-06-15T00:00:00Z', '0099-06-15T00:00:00.000Z'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
  ])('accepts %s', (text, iso) => {
    expect(parseDateTime(text).toISOString()).toBe(iso);
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2025-02-29',
    '2026-04-31',
    '2026-13-01',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00+01:00',
    '-000001-01-01T00:00:00Z',
    '275760-09-13T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T00:00:00Z\u0000',
    'tomorrow',
    '1700000000000',
    '',
  ])('refuses %j', (text) => {
    expect(() => parseDateTime(text)).toThrow(TypeError);
  });
});
