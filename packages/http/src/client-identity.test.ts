// Client identity (client-identity.ts): header validation and bounded metric labels.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClientLabeler, parseClientIdentity, parseClientNames, readClientIdentity } from './client-identity.ts';

describe('parseClientIdentity', () => {
  it('keeps valid names and versions', () => {
    expect(parseClientIdentity('web-storefront', '1.4.0-beta.2+build.7')).toEqual({
      name: 'web-storefront',
      version: '1.4.0-beta.2+build.7',
    });
    expect(parseClientIdentity('@acme/ios', undefined)).toEqual({ name: '@acme/ios', version: null });
    expect(parseClientIdentity('a'.repeat(64), 'v'.repeat(64))).toEqual({
      name: 'a'.repeat(64),
      version: 'v'.repeat(64),
    });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['a control character', 'web\u0000app'],
    ['a tab', 'web\tapp'],
    ['a newline (log injection)', 'web\n{"level":"fatal"}'],
    ['DEL', 'web\u007f'],
    ['10 KB', 'w'.repeat(10_240)],
    ['65 characters', 'a'.repeat(65)],
    ['non-ASCII', 'wéb'],
    ['spaces', 'web app'],
    ['a repeated header', ['web', 'ios']],
    ['a leading dash', '-web'],
  ])('a name with %s is no name', (_what, name) => {
    expect(parseClientIdentity(name, '1.0.0')).toEqual({ name: null, version: null });
  });

  it('drops an invalid version but keeps the name', () => {
    expect(parseClientIdentity('web', '1.0\u0000')).toEqual({ name: 'web', version: null });
    expect(parseClientIdentity('web', '1'.repeat(10_240))).toEqual({ name: 'web', version: null });
  });

  it('readClientIdentity reads the request headers once', () => {
    const req = {
      headers: { 'apollographql-client-name': 'web', 'apollographql-client-version': '2' },
    } as unknown as IncomingMessage;
    const first = readClientIdentity(req);
    expect(first).toEqual({ name: 'web', version: '2' });
    req.headers['apollographql-client-name'] = 'changed';
    expect(readClientIdentity(req)).toBe(first);
  });
});

describe('createClientLabeler', () => {
  it('first seen: 10,000 distinct names make at most max + 2 labels', () => {
    const label = createClientLabeler({ max: 20 });
    const labels = new Set<string>();
    for (let i = 0; i < 10_000; i++) labels.add(label({ name: `client-${i}`, version: null }));
    labels.add(label({ name: null, version: null }));
    expect(labels.size).toBe(22);
    expect(labels.has('other')).toBe(true);
    expect(labels.has('unknown')).toBe(true);
    expect(label({ name: 'client-3', version: null })).toBe('client-3');
  });

  it('an allowlist labels only its names', () => {
    const label = createClientLabeler({ allowlist: ['web', 'ios'] });
    expect(label({ name: 'web', version: '1' })).toBe('web');
    expect(label({ name: 'android', version: '1' })).toBe('other');
    expect(label({ name: null, version: null })).toBe('unknown');
  });

  it('parseClientNames reads CLIENT_NAMES and names a bad entry', () => {
    expect(parseClientNames('web, ios ,@acme/android')).toEqual(['web', 'ios', '@acme/android']);
    expect(() => parseClientNames('web,bad name')).toThrow('"bad name" is not a client name');
  });
});
