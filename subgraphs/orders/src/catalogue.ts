// Prices at order time, from the catalogue's owner. The orders subgraph may not read the
// products schema nor import its code, so placeOrder asks the products subgraph itself:
// one `_entities` request for every product of the order, over HTTP, before its write
// transaction, bounded by CATALOGUE_TIMEOUT_MS, with a service identity signed by the
// secret the gateway and subgraphs share (a subgraph serves only signed requests).
import { ANONYMOUS, createViewerSigner, IDENTITY_HEADER } from '@trellis/identity';
import { request } from 'undici';
import { settings } from './env.ts';

export class CatalogueUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogueUnavailable';
  }
}

export interface Catalogue {
  /** Current price in cents of each product id that exists (unknown ids are absent). */
  prices(productIds: readonly number[]): Promise<Map<number, number>>;
}

const PRICES = /* GraphQL */ `
  query OrderPrices($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Product { id price } }
  }
`;

export function createCatalogue(options: { url: string; timeoutMs: number; signingSecret: string }): Catalogue {
  const sign = createViewerSigner(options.signingSecret);
  return {
    async prices(productIds) {
      let body: { data?: { _entities?: ({ id: string; price: number } | null)[] }; errors?: { message: string }[] };
      try {
        const response = await request(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await sign(ANONYMOUS) },
          body: JSON.stringify({
            query: PRICES,
            variables: { representations: productIds.map((id) => ({ __typename: 'Product', id: String(id) })) },
          }),
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        body = (await response.body.json()) as typeof body;
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
      } catch (error) {
        throw new CatalogueUnavailable(`catalogue price lookup failed: ${(error as Error).message}`, { cause: error });
      }
      if (body.errors?.length || !body.data?._entities) {
        throw new CatalogueUnavailable(`catalogue price lookup failed: ${body.errors?.[0]?.message ?? 'no data'}`);
      }
      const prices = new Map<number, number>();
      for (const entity of body.data._entities) {
        if (entity) prices.set(Number(entity.id), Math.round(entity.price * 100));
      }
      return prices;
    },
  };
}

let shared: Catalogue | undefined;
/** The process's catalogue client (from env, on first use). */
export function catalogue(): Catalogue {
  if (!shared) {
    const env = settings();
    shared = createCatalogue({
      url: env.CATALOGUE_URL,
      timeoutMs: env.CATALOGUE_TIMEOUT_MS,
      signingSecret: env.SUBGRAPH_SIGNING_SECRET,
    });
  }
  return shared;
}
