// Operation limits, enforced after validation and before the query planner sees the
// operation (so a rejected operation costs no subgraph fetch): document size, depth,
// aliases, directives and cost (cost.ts: @cost/@listSize from the supergraph, computed with
// graphql-query-complexity). Token count is bounded by the parser itself (ApolloServer
// parseOptions.maxTokens).
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode, trellisError } from '@trellis/errors';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type OperationTypeNode,
  type SelectionSetNode,
  visit,
} from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { type CostHints, costEstimator } from './cost.ts';

export interface Limits {
  /** Room for the public federation benchmark query (estimated 12,817). @default 25000 */
  maxCost: number;
  /** @default 15 */
  maxDepth: number;
  /** @default 30 */
  maxAliases: number;
  /** @default 50 */
  maxDirectives: number;
  /** @default 3000 */
  maxTokens: number;
  /** @default 32768 */
  maxDocumentBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxCost: 25_000,
  maxDepth: 15,
  maxAliases: 30,
  maxDirectives: 50,
  maxTokens: 3000,
  maxDocumentBytes: 32_768,
};

function measure(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>) {
  let aliases = 0;
  let directives = 0;
  const depthOf = (selectionSet: SelectionSetNode | undefined, seen: Set<string>): number => {
    if (!selectionSet) return 0;
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) aliases++;
        if (selection.name.value.startsWith('__')) continue;
        deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, seen));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
      } else {
        const name = selection.name.value;
        if (seen.has(name)) continue;
        const fragment = fragments.get(name);
        directives += fragment?.directives?.length ?? 0;
        deepest = Math.max(deepest, depthOf(fragment?.selectionSet, new Set([...seen, name])));
      }
    }
    return deepest;
  };
  directives += operation.directives?.length ?? 0;
  const depth = depthOf(operation.selectionSet, new Set());
  return { depth, aliases, directives };
}

function tooComplex(message: string, extensions: Record<string, unknown>, expose: boolean) {
  return trellisError(ErrorCode.QUERY_TOO_COMPLEX, message, { ...(expose ? extensions : {}), http: { status: 400 } });
}

/**
 * Rejects operations over the limits with QUERY_TOO_COMPLEX (HTTP 400) and, outside
 * production, the figures in `extensions`; in development every response reports its
 * estimated cost as `extensions.cost`.
 */
export function createLimitsPlugin<TContext extends BaseContext>(options: {
  limits: Limits;
  hints: () => CostHints;
  /** Put the figures into errors (everything but production). */
  exposeFigures: boolean;
  /** Report `extensions.cost` on every response (development). */
  reportCost: boolean;
  /**
   * Called with the estimated cost of an operation within the limits, before the query
   * planner sees it (the rate limiter spends it here); a throw refuses the request.
   */
  onEstimate?: (context: TContext, cost: number, operation: OperationTypeNode) => Promise<void>;
}): ApolloServerPlugin<TContext> {
  const { limits } = options;
  // Per supergraph version the hints may change; documents are re-parsed after a reload.
  const figuresByDocument = new WeakMap<
    DocumentNode,
    {
      shape: ReturnType<typeof measure>;
      fragments: Map<string, FragmentDefinitionNode>;
      costs: Map<string, number>;
    }
  >();
  return {
    async requestDidStart() {
      let estimated: number | undefined;
      return {
        async didResolveOperation({ request, document, operation, schema, operationName, contextValue }) {
          if (!operation) {
            // The query planner would fail this as an internal error (500); it is the client's.
            throw trellisError(
              ErrorCode.OPERATION_RESOLUTION_FAILURE,
              operationName
                ? `Unknown operation named "${operationName}"`
                : 'Must provide an operation name when the document contains several operations',
              { http: { status: 400 } },
            );
          }
          const bytes = Buffer.byteLength(request.query ?? '');
          if (bytes > limits.maxDocumentBytes) {
            throw tooComplex(
              `Document is ${bytes} bytes; the limit is ${limits.maxDocumentBytes}`,
              { limit: 'documentBytes', actual: bytes, max: limits.maxDocumentBytes },
              options.exposeFigures,
            );
          }
          // Apollo hands every request with the same text the same parsed document, so the
          // figures are computed once per document (and per variables for the cost).
          let figures = figuresByDocument.get(document);
          if (!figures) {
            const fragments = new Map<string, FragmentDefinitionNode>();
            for (const d of document.definitions)
              if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
            figures = { shape: measure(operation, fragments), fragments, costs: new Map() };
            figuresByDocument.set(document, figures);
          }
          const { depth, aliases, directives } = figures.shape;
          if (depth > limits.maxDepth) {
            throw tooComplex(
              `Operation depth ${depth} exceeds the limit of ${limits.maxDepth}`,
              { limit: 'depth', actual: depth, max: limits.maxDepth },
              options.exposeFigures,
            );
          }
          if (aliases > limits.maxAliases) {
            throw tooComplex(
              `Operation uses ${aliases} aliases; the limit is ${limits.maxAliases}`,
              { limit: 'aliases', actual: aliases, max: limits.maxAliases },
              options.exposeFigures,
            );
          }
          if (directives > limits.maxDirectives) {
            throw tooComplex(
              `Operation uses ${directives} directives; the limit is ${limits.maxDirectives}`,
              { limit: 'directives', actual: directives, max: limits.maxDirectives },
              options.exposeFigures,
            );
          }
          // Variables are bounded at the HTTP edge (depth and count, @trellis/http), so serialising
          // them cannot overflow the stack; hashed, so 64 keys of client data stay 64 short strings.
          const costKey = createHash('sha256')
            .update(`${operationName ?? ''}|${request.variables ? JSON.stringify(request.variables) : ''}`)
            .digest('base64url');
          const cached = figures.costs.get(costKey);
          if (cached !== undefined) {
            estimated = cached;
          } else {
            try {
              estimated = getComplexity({
                schema,
                query: onlyOperation(document, operation),
                variables: request.variables ?? {},
                ...(operationName ? { operationName } : {}),
                estimators: [costEstimator(options.hints, figures.fragments)],
              });
            } catch (error) {
              // Cost needs the variables; values that do not coerce are the client's mistake.
              throw trellisError(ErrorCode.BAD_USER_INPUT, (error as Error).message, { http: { status: 400 } });
            }
            // Bounded: variables are client data.
            if (figures.costs.size < 64) figures.costs.set(costKey, estimated);
          }
          if (estimated > limits.maxCost) {
            throw tooComplex(
              `Operation cost ${estimated} exceeds the limit of ${limits.maxCost}`,
              { cost: { estimated, max: limits.maxCost } },
              options.exposeFigures,
            );
          }
          await options.onEstimate?.(contextValue, estimated, operation.operation);
        },
        async willSendResponse({ response }) {
          if (!options.reportCost || estimated === undefined || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: { estimated, max: limits.maxCost } };
        },
      };
    },
  };
}

/** The document reduced to the executed operation and the fragments (cost of one operation). */
function onlyOperation(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  if (document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length === 1) return document;
  return visit(document, {
    OperationDefinition(node) {
      return node === operation ? undefined : null;
    },
  });
}
