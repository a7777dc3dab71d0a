// A signed GraphQL client for one subgraph calling another over HTTP — the only way data
// crosses domains outside federation (a subgraph may not read another's schema nor import
// its code). Each request carries a service identity signed with the secret the gateway and
// subgraphs share (a subgraph serves only signed requests) and is bounded by `timeoutMs`.
// Any failure — transport, HTTP status, GraphQL errors, no data — is one typed error.
import { ANONYMOUS, createViewerSigner, IDENTITY_HEADER, type Viewer } from '@trellis/identity';
import { request } from 'undici';

/** The request failed: unreachable, timed out, a non-200 answer, GraphQL errors or no data. */
export class SubgraphRequestFailed extends Error {
  override name = 'SubgraphRequestFailed';
}

export interface SubgraphClientOptions {
  /** The other subgraph's GraphQL endpoint. */
  url: string;
  /** Bound on one request (headers, body and the whole exchange). */
  timeoutMs: number;
  /** SUBGRAPH_SIGNING_SECRET: signs the identity header. */
  signingSecret: string;
  /** Who the requests are made as. @default ANONYMOUS (a service call) */
  viewer?: Viewer;
}

export interface SubgraphClient {
  /** Runs `query` with `variables`; resolves to its `data`, or throws SubgraphRequestFailed. */
  request<TData>(query: string, variables?: Record<string, unknown>): Promise<TData>;
}

export function createSubgraphClient(options: SubgraphClientOptions): SubgraphClient {
  const sign = createViewerSigner(options.signingSecret);
  const viewer = options.viewer ?? ANONYMOUS;
  return {
    async request<TData>(query: string, variables: Record<string, unknown> = {}): Promise<TData> {
      let body: { data?: TData | null; errors?: { message: string }[] };
      try {
        const response = await request(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await sign(viewer) },
          body: JSON.stringify({ query, variables }),
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        body = (await response.body.json()) as typeof body;
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
      } catch (error) {
        throw new SubgraphRequestFailed((error as Error).message, { cause: error });
      }
      if (body.errors?.length || !body.data) throw new SubgraphRequestFailed(body.errors?.[0]?.message ?? 'no data');
      return body.data;
    },
  };
}
