import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacDigest, sign, verify } from './index.ts';

const SECRET = 'test-secret';
const reference = (encoding: 'hex' | 'base64url' | 'base64', data = 'payload', algorithm = 'sha256') =>
  createHmac(algorithm, SECRET).update(data).digest(encoding);

describe('sign', () => {
  it('is HMAC-SHA256 in base64url by default', () => {
    expect(sign(SECRET, 'payload')).toBe(reference('base64url'));
  });

  it('writes the digest in the encoding asked for, truncated to `length`', () => {
    expect(sign(SECRET, 'payload', { encoding: 'hex' })).toBe(reference('hex'));
    expect(sign(SECRET, 'payload', { encoding: 'base64' })).toBe(reference('base64'));
    expect(sign(SECRET, 'payload', { length: 12 })).toBe(reference('base64url').slice(0, 12));
    expect(sign(SECRET, 'payload', { algorithm: 'sha512', encoding: 'hex' })).toBe(
      reference('hex', 'payload', 'sha512'),
    );
  });

  it('depends on the secret and on every byte of the data', () => {
    expect(sign('other', 'payload')).not.toBe(sign(SECRET, 'payload'));
    expect(sign(SECRET, 'payloaD')).not.toBe(sign(SECRET, 'payload'));
  });
});

describe('verify', () => {
  it('accepts the signature sign gives, in the same format', () => {
    for (const format of [{}, { encoding: 'hex' as const }, { length: 12 }]) {
      expect(verify(SECRET, 'payload', sign(SECRET, 'payload', format), format)).toBe(true);
    }
  });

  it('refuses another secret, other data, a truncated or extended signature, another format', () => {
    const good = sign(SECRET, 'payload', { encoding: 'hex' });
    expect(verify('other', 'payload', good, { encoding: 'hex' })).toBe(false);
    expect(verify(SECRET, 'payloaD', good, { encoding: 'hex' })).toBe(false);
    expect(verify(SECRET, 'payload', good.slice(0, -1), { encoding: 'hex' })).toBe(false);
    expect(verify(SECRET, 'payload', `${good}0`, { encoding: 'hex' })).toBe(false);
    expect(verify(SECRET, 'payload', good.toUpperCase(), { encoding: 'hex' })).toBe(false);
    expect(verify(SECRET, 'payload', good, { encoding: 'base64url' })).toBe(false);
    expect(verify(SECRET, 'payload', '')).toBe(false);
  });

  it('compares bytes with the raw digest', () => {
    const digest = hmacDigest(SECRET, 'payload');
    expect(verify(SECRET, 'payload', digest)).toBe(true);
    expect(verify(SECRET, 'payload', Buffer.from(sign(SECRET, 'payload'), 'base64url'))).toBe(true);
    expect(verify(SECRET, 'payload', digest.subarray(1))).toBe(false);
    const flipped = Buffer.from(digest);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(verify(SECRET, 'payload', flipped)).toBe(false);
  });
});
