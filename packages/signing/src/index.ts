// HMAC signing for every signed thing in the graph — relay cursors, invoice links, webhook
// bodies, test tokens: one way to sign and one constant-time way to check. The wire format
// (digest encoding, truncation) is a parameter, so each caller keeps the format it has.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'sha256' | 'sha384' | 'sha512';
export type HmacEncoding = 'hex' | 'base64url' | 'base64';

export interface HmacFormat {
  /** @default 'sha256' */
  algorithm?: HmacAlgorithm;
  /** How the digest is written. @default 'base64url' */
  encoding?: HmacEncoding;
  /** Keep only the first `length` characters of the encoded digest (a short tag). @default the whole digest */
  length?: number;
}

/** The raw HMAC digest of `data` under `secret`. */
export function hmacDigest(
  secret: string | Uint8Array,
  data: string | Uint8Array,
  algorithm: HmacAlgorithm = 'sha256',
) {
  return createHmac(algorithm, secret).update(data).digest();
}

/** The HMAC of `data` under `secret`, encoded (and truncated) as `format` says. */
export function sign(secret: string | Uint8Array, data: string | Uint8Array, format: HmacFormat = {}): string {
  const text = hmacDigest(secret, data, format.algorithm).toString(format.encoding ?? 'base64url');
  return format.length === undefined ? text : text.slice(0, format.length);
}

/**
 * Whether `signature` is the HMAC of `data` under `secret`, in constant time (for equal
 * lengths). A string is compared with the encoded text `sign` gives for `format`, byte for
 * byte (another spelling of the same digest is refused); bytes are compared with the raw
 * digest (`format.encoding` and `length` do not apply).
 */
export function verify(
  secret: string | Uint8Array,
  data: string | Uint8Array,
  signature: string | Uint8Array,
  format: HmacFormat = {},
): boolean {
  const expected =
    typeof signature === 'string'
      ? Buffer.from(sign(secret, data, format))
      : hmacDigest(secret, data, format.algorithm);
  const given = typeof signature === 'string' ? Buffer.from(signature) : signature;
  return given.length === expected.length && timingSafeEqual(given, expected);
}
