// Error paths: what a failed fetch becomes for the client and where the gateway puts it.
// @apollo/gateway pushes an error *thrown* by a data source as is, without a path
// (executeQueryPlan.js, executeNode 'Fetch': `context.errors.push(error)`). Errors *returned*
// in the response's `errors` are mapped to the client's paths by the gateway itself
// (downstreamServiceError + makeLazyErrorPathGenerator, which turns `_entities.<i>.<field>`
// into e.g. `products.edges.3.node.inStock`). So for an incoming operation a failed fetch is
// answered with one error per field it would have filled, each with its subgraph-side path,
// and the gateway places them.
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ErrorCode } from '@trellis/errors';
import {
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLFormattedError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
} from 'graphql';

export type GatewayResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

export type FetchOutcome = 'ok' | 'error' | 'timeout' | 'unavailable' | 'deduplicated';
export type FailureOutcome = 'error' | 'timeout' | 'unavailable';

/**
 * What a failed fetch becomes: a client-safe GraphQL error (code, subgraph, a fixed message).
 * The underlying error stays on the non-enumerable `cause` for logs, never in the response.
 */
export class SubgraphFetchError extends GraphQLError {
  readonly outcome: FailureOutcome;
  declare readonly cause: unknown;

  constructor(subgraph: string, outcome: FailureOutcome, message: string, code: ErrorCode, cause?: unknown) {
    super(message, { extensions: { code, subgraph } });
    this.outcome = outcome;
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}

/** The subgraph could not be reached or did not answer usably (the outcome label tells which). */
export const unavailableError = (subgraph: string, cause?: unknown, outcome: 'error' | 'unavailable' = 'unavailable') =>
  new SubgraphFetchError(
    subgraph,
    outcome,
    `Subgraph "${subgraph}" is unavailable`,
    ErrorCode.SUBGRAPH_UNAVAILABLE,
    cause,
  );

/** The fetch's deadline passed, retries and backoff included. */
export const timeoutError = (subgraph: string, timeoutMs: number, cause: unknown) =>
  new SubgraphFetchError(
    subgraph,
    'timeout',
    `Subgraph "${subgraph}" did not answer within ${timeoutMs} ms`,
    ErrorCode.TIMEOUT,
    cause,
  );

function responseNames(
  selectionSet: SelectionSetNode,
  typename: string | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  names: Set<string>,
): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') names.add(selection.alias?.value ?? selection.name.value);
    } else {
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
      const condition = fragment?.typeCondition?.name.value;
      if (fragment && (!condition || !typename || condition === typename)) {
        responseNames(fragment.selectionSet, typename, fragments, names);
      }
    }
  }
  return names;
}

/** Subgraph-side paths of the fields a fetch would have filled: `[field]` or `['_entities', i, field]`. */
export function fetchFieldPaths(
  query: string,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): (string | number)[][] {
  let definitions: ReturnType<typeof parse>['definitions'];
  try {
    definitions = parse(query).definitions;
  } catch {
    return [];
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return [];
  const entities = operation.selectionSet.selections.find(
    (s) => s.kind === Kind.FIELD && s.name.value === '_entities' && s.selectionSet,
  );
  const representations = variables?.representations;
  if (entities?.kind === Kind.FIELD && entities.selectionSet && Array.isArray(representations)) {
    const alias = entities.alias?.value ?? '_entities';
    return representations.flatMap((representation, index) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      const names = responseNames(
        entities.selectionSet as SelectionSetNode,
        typeof typename === 'string' ? typename : undefined,
        fragments,
        new Set(),
      );
      return [...names].map((name) => [alias, index, name]);
    });
  }
  return [...responseNames(operation.selectionSet, undefined, fragments, new Set())].map((name) => [name]);
}

/** The answer to a failed incoming operation: one error per field at its subgraph-side path. */
export function failureResponse(
  error: SubgraphFetchError,
  request: GraphQLDataSourceProcessOptions['request'],
): GatewayResponse {
  const base: GraphQLFormattedError = { message: error.message, extensions: { ...error.extensions } };
  const paths = fetchFieldPaths(request.query ?? '', request.operationName, request.variables);
  return { errors: paths.length ? paths.map((path) => ({ ...base, path })) : [base] };
}
