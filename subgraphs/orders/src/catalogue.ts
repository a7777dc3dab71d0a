// Prices at order time, from the catalogue's owner. The orders subgraph may not read the
// products schema nor import its code, so placeOrder asks the products subgraph itself: one
// `_entities` request for every product of the order, before its write transaction, through
// the kit's signed subgraph client (bounded by CATALOGUE_TIMEOUT_MS).
import { createSubgraphClient, SubgraphRequestFailed } from '@trellis/subgraph-kit/graphql-client';
import { catalogueSettings } from './env.ts';

export class CatalogueUnavailable extends Error {
  override name = 'CatalogueUnavailable';
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
  const client = createSubgraphClient(options);
  return {
    async prices(productIds) {
      let data: { _entities?: ({ id: string; price: number } | null)[] };
      try {
        data = await client.request(PRICES, {
          representations: productIds.map((id) => ({ __typename: 'Product', id: String(id) })),
        });
      } catch (error) {
        if (!(error instanceof SubgraphRequestFailed)) throw error;
        throw new CatalogueUnavailable(`catalogue price lookup failed: ${error.message}`, { cause: error });
      }
      if (!data._entities) throw new CatalogueUnavailable('catalogue price lookup failed: no data');
      const prices = new Map<number, number>();
      for (const entity of data._entities) {
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
    const env = catalogueSettings();
    shared = createCatalogue({
      url: env.CATALOGUE_URL,
      timeoutMs: env.CATALOGUE_TIMEOUT_MS,
      signingSecret: env.SUBGRAPH_SIGNING_SECRET,
    });
  }
  return shared;
}
