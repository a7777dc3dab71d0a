// Every operation the storefront sends, as typed documents: `graphql()` comes from
// src/generated (`pnpm codegen`, client preset, from clients/api.graphql), so results and
// variables are typed, and each document carries the id of its entry in the
// trusted-documents manifest (persisted-operations.json) that production sends instead of
// the text.
import { graphql } from './generated/gql.ts';

export const ProductCard = graphql(`
  fragment ProductCard on Product {
    id
    name
    price
    inStock
    averageRating
  }
`);

/** One catalogue page: `first`/`after` forward, `last`/`before` backward (Relay). */
export const Catalogue = graphql(`
  query Catalogue($first: Int, $after: String, $last: Int, $before: String, $filter: ProductFilter) {
    products(
      first: $first
      after: $after
      last: $last
      before: $before
      filter: $filter
      orderBy: { field: PRICE, direction: ASC }
    ) {
      totalCount
      edges {
        cursor
        node {
          ...ProductCard
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`);

/**
 * The product page. Stock lives in the inventory subgraph and is asked for under its own
 * root field (`stock`): when inventory is down only `stock` is null (SUBGRAPH_UNAVAILABLE)
 * and the page still shows the product and its reviews.
 */
export const ProductPage = graphql(`
  query ProductPage($id: ID!) {
    product(id: $id) {
      id
      name
      description
      price
      weight
      category
      averageRating
      reviewCount
      reviews(first: 10) {
        edges {
          node {
            id
            rating
            body
            author {
              name
            }
          }
        }
      }
    }
    stock: product(id: $id) {
      id
      inStock
      quantity
      shippingEstimate
    }
  }
`);

export const Me = graphql(`
  query Me {
    me {
      id
      name
      email
    }
  }
`);

/**
 * Places the cart as an order. One idempotencyKey per checkout (a UUID), reused on every
 * retry and repeated click, so the order is placed once.
 */
export const PlaceOrder = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order {
        id
        status
        total
        createdAt
        lines {
          quantity
          unitPrice
          product {
            id
            name
          }
        }
      }
      userErrors {
        message
        path
        code
      }
    }
  }
`);

/** An order and its invoice (PENDING until the orders worker rendered the PDF). */
export const OrderStatus = graphql(`
  query OrderStatus($id: ID!) {
    order(id: $id) {
      id
      status
      total
      createdAt
      invoice {
        status
        url
      }
    }
  }
`);

export const AddReview = graphql(`
  mutation AddReview($input: AddReviewInput!) {
    addReview(input: $input) {
      review {
        id
      }
      userErrors {
        path
        message
        code
      }
    }
  }
`);
