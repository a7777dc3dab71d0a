// The product page's operations, as a client would keep them next to its components.
export const PRODUCT_PAGE = /* GraphQL */ `
  query ProductPage($id: ID!) {
    product(id: $id) {
      id
      name
      description
      price
      weight
      shippingEstimate
      quantity
      reviewCount
      reviews(first: 10) {
        edges {
          node {
            rating
            body
            author {
              name
            }
          }
        }
      }
    }
  }
`;

export const ADD_REVIEW = /* GraphQL */ `
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
`;
