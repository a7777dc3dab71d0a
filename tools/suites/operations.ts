// The operation mix the load and fault suites send: the storefront's own operations (from
// its persisted manifest) plus a user page, a signed-in `me`, and one that must fail with a
// typed GraphQL error (a forged cursor), never a transport error, and placing orders.
import { randomBytes } from 'node:crypto';
import { tokenFor } from '../src/harness.ts';
import { storefront } from '../src/storefront.ts';
import type { Operation } from './load.ts';

export { storefront };

export const USER_REVIEWS = /* GraphQL */ `
  query UserReviews($id: ID!) {
    user(id: $id) {
      id
      name
      reviews(first: 5) {
        edges {
          node {
            rating
            product {
              id
              name
            }
          }
        }
      }
    }
  }
`;

export const ME = /* GraphQL */ `
  query Me {
    me {
      id
      name
      email
    }
  }
`;

/** Pages with a cursor nobody issued: the products subgraph answers BAD_USER_INPUT. */
export const FORGED_CURSOR = /* GraphQL */ `
  query ForgedCursor($after: String!) {
    products(first: 5, after: $after) {
      edges {
        node {
          id
        }
      }
    }
  }
`;

export const PLACE_ORDER = /* GraphQL */ `
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order {
        id
        total
      }
      userErrors {
        code
        message
      }
    }
  }
`;

/** A PlaceOrder operation: each send a new order (unique idempotency key) by one of 50 users. */
export async function placeOrderOperation(weight = 1): Promise<Operation> {
  const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => tokenFor(i + 1)));
  const run = randomBytes(6).toString('hex');
  return {
    name: 'PlaceOrder',
    weight,
    request: (n) => ({
      body: {
        query: PLACE_ORDER,
        variables: {
          input: {
            idempotencyKey: `suite-${run}-${n}`,
            lines: [{ productId: String((n % 100) + 1), quantity: (n % 3) + 1 }],
          },
        },
      },
      headers: { authorization: `Bearer ${tokens[n % tokens.length]}` },
    }),
  };
}

/** Sizes of the seeded test data set (TEST_SEED): ids run from 1. */
const PRODUCTS = 100;
const USERS = 50;

/** The soak's mix; `expected` tells which error codes each operation may return. */
export async function mixedOperations(): Promise<{ operations: Operation[]; expected: Record<string, string[]> }> {
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => tokenFor(i + 1)));
  const operations: Operation[] = [
    {
      name: 'Catalogue',
      weight: 4,
      request: (n) => ({
        body: {
          query: storefront('Catalogue'),
          variables: { first: [10, 20, 30][n % 3], filter: n % 2 ? { priceMin: n % 50 } : null },
        },
      }),
    },
    {
      name: 'ProductPage',
      weight: 4,
      request: (n) => ({ body: { query: storefront('ProductPage'), variables: { id: String((n % PRODUCTS) + 1) } } }),
    },
    {
      name: 'UserReviews',
      weight: 2,
      request: (n) => ({ body: { query: USER_REVIEWS, variables: { id: String((n % USERS) + 1) } } }),
    },
    {
      name: 'Me',
      weight: 1,
      request: (n) => ({ body: { query: ME }, headers: { authorization: `Bearer ${tokens[n % tokens.length]}` } }),
    },
    {
      name: 'ForgedCursor',
      weight: 1,
      request: (n) => ({
        body: { query: FORGED_CURSOR, variables: { after: Buffer.from(`forged:${n}`).toString('base64url') } },
      }),
    },
    await placeOrderOperation(),
  ];
  return { operations, expected: { ForgedCursor: ['BAD_USER_INPUT'] } };
}
