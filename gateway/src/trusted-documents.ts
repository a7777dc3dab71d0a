// Trusted documents: in this mode the gateway executes only operations listed in a manifest
// (Apollo's persisted query manifest format, written by the client tooling). A request
// may send the id alone (APQ-style `extensions.persistedQuery.sha256Hash` or `documentId`)
// or the full text, whose hash must be in the manifest. Anything else is refused before
// parsing.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode } from '@trellis/errors';

export interface ManifestOperation {
  id: string;
  name?: string;
  type?: string;
  body: string;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Reads a manifest; every operation's id must be the sha256 of its body. */
export function loadManifest(path: string): Map<string, string> {
  let parsed: { format?: string; operations?: ManifestOperation[] };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ManifestError(`Trusted documents manifest ${path} cannot be read: ${(error as Error).message}`);
  }
  if (parsed.format !== 'apollo-persisted-query-manifest' || !Array.isArray(parsed.operations)) {
    throw new ManifestError(`Trusted documents manifest ${path} is not an apollo-persisted-query-manifest`);
  }
  const documents = new Map<string, string>();
  for (const op of parsed.operations) {
    if (sha256(op.body) !== op.id)
      throw new ManifestError(`Manifest operation ${op.name ?? op.id}: id is not the sha256 of its body`);
    documents.set(op.id, op.body);
  }
  return documents;
}

export type TrustedResult = { ok: true; body: Record<string, unknown> } | { ok: false; message: string };

/** Resolves a request body against the manifest: fills in the text, or refuses. */
export function resolveTrusted(documents: Map<string, string>, body: unknown): TrustedResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'Trusted documents mode accepts one JSON operation per request' };
  }
  const request = body as Record<string, unknown>;
  const extensions = (request.extensions ?? {}) as { persistedQuery?: { sha256Hash?: unknown } };
  const id =
    (typeof request.documentId === 'string' && request.documentId.replace(/^sha256:/, '')) ||
    (typeof extensions.persistedQuery?.sha256Hash === 'string' && extensions.persistedQuery.sha256Hash) ||
    (typeof request.query === 'string' && sha256(request.query)) ||
    undefined;
  const text = id ? documents.get(id) : undefined;
  if (!text) return { ok: false, message: 'Operation is not in the trusted documents manifest' };
  // Drop the APQ extension: the text is known, nothing to register.
  const { persistedQuery: _persisted, ...otherExtensions } = extensions as Record<string, unknown>;
  const { documentId: _documentId, ...rest } = request;
  return { ok: true, body: { ...rest, query: text, extensions: otherExtensions } };
}

export const NOT_TRUSTED = ErrorCode.PERSISTED_QUERY_NOT_FOUND;
