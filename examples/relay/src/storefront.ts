// A storefront's operations, as Relay writes them: relay-compiler reads the graphql`` tags here
// and writes one artifact per operation to src/__generated__/ (test/relay.test.ts runs it against
// the server). In a React app the babel or SWC Relay plugin replaces each tag with its artifact.
import { graphql } from 'relay-runtime';

export const MeQuery = graphql`
  query storefrontMeQuery {
    me {
      id
      email
      ...storefrontOrders_customer
      addresses(first: 10) {
        edges {
          node {
            id
            ...storefrontAddress_address
          }
        }
      }
    }
  }
`;

// Paged with `me { orders @connection }`: the next page is read through node(id) by the
// refetch query Relay generates (storefrontOrdersPaginationQuery).
export const OrdersFragment = graphql`
  fragment storefrontOrders_customer on Customer
  @refetchable(queryName: "storefrontOrdersPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    orders(first: $count, after: $cursor) @connection(key: "storefrontOrders_orders") {
      edges {
        node {
          id
          displayId
          createdAt
        }
      }
    }
  }
`;

export const AddressFragment = graphql`
  fragment storefrontAddress_address on Address @refetchable(queryName: "storefrontAddressRefetchQuery") {
    id
    city
    isDefaultShipping
  }
`;

export const DeleteAddressMutation = graphql`
  mutation storefrontDeleteAddressMutation($id: ID!) {
    deleteMyAddress(id: $id) {
      __typename
      ... on DeletedPayload {
        deletedId @deleteRecord
      }
      ... on Error {
        code
        message
      }
    }
  }
`;
