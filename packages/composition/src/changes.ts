// Breaking and dangerous changes between two versions of a schema, described for the people
// who own the clients: what changed, at which coordinate, and why it breaks them.
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from '@apollo/federation-internals';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  BreakingChangeType,
  DangerousChangeType,
  findBreakingChanges,
  findDangerousChanges,
  type GraphQLSchema,
  parse,
} from 'graphql';

export interface SchemaChange {
  /** `supergraph` (what clients see) or `subgraph <name>`. */
  scope: string;
  severity: 'breaking' | 'dangerous';
  type: string;
  description: string;
  /** Why a client may break. */
  why: string;
}

const WHY: Record<string, string> = {
  [BreakingChangeType.TYPE_REMOVED]: 'operations that name the type stop validating',
  [BreakingChangeType.TYPE_CHANGED_KIND]: 'selections and fragments on the type stop validating',
  [BreakingChangeType.TYPE_REMOVED_FROM_UNION]: 'fragments on that member stop matching; results lose those objects',
  [BreakingChangeType.VALUE_REMOVED_FROM_ENUM]:
    'clients sending the value get validation errors; stored values stop parsing',
  [BreakingChangeType.REQUIRED_INPUT_FIELD_ADDED]: 'existing inputs lack the new required field and are refused',
  [BreakingChangeType.IMPLEMENTED_INTERFACE_REMOVED]: 'fragments on the interface stop matching the type',
  [BreakingChangeType.FIELD_REMOVED]: 'operations selecting the field stop validating',
  [BreakingChangeType.FIELD_CHANGED_KIND]: 'the response changes shape or nullability under existing clients',
  [BreakingChangeType.REQUIRED_ARG_ADDED]: 'existing calls lack the new required argument and are refused',
  [BreakingChangeType.ARG_REMOVED]: 'calls passing the argument stop validating',
  [BreakingChangeType.ARG_CHANGED_KIND]: 'existing argument values may no longer be accepted',
  [BreakingChangeType.DIRECTIVE_REMOVED]: 'operations using the directive stop validating',
  [BreakingChangeType.DIRECTIVE_ARG_REMOVED]: 'operations passing the argument stop validating',
  [BreakingChangeType.REQUIRED_DIRECTIVE_ARG_ADDED]: 'existing uses lack the required argument',
  [BreakingChangeType.DIRECTIVE_REPEATABLE_REMOVED]: 'operations repeating the directive stop validating',
  [BreakingChangeType.DIRECTIVE_LOCATION_REMOVED]: 'operations using the directive there stop validating',
  [DangerousChangeType.VALUE_ADDED_TO_ENUM]: 'clients with exhaustive switches meet a value they do not know',
  [DangerousChangeType.TYPE_ADDED_TO_UNION]: 'clients with exhaustive handling meet a type they do not know',
  [DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED]:
    'harmless for requests; check clients that validate inputs strictly',
  [DangerousChangeType.OPTIONAL_ARG_ADDED]: 'harmless for requests; a default now applies where none did',
  [DangerousChangeType.IMPLEMENTED_INTERFACE_ADDED]: 'fragments on the interface now also match this type',
  [DangerousChangeType.ARG_DEFAULT_VALUE_CHANGE]: 'calls relying on the old default now get different results',
};

/** The schema clients see from a supergraph (security features understood, not enforced). */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES })
    .apiSchema()
    .toGraphQLJSSchema();
}

export function subgraphSchemaOf(sdl: string): GraphQLSchema {
  return buildSubgraphSchema(parse(sdl));
}

/** Federation's own machinery in a subgraph schema (its directives, _Entity…) is not API. */
export function isFederationMachinery(change: SchemaChange): boolean {
  return (
    change.type.startsWith('DIRECTIVE_') ||
    /\b(federation__|link__)|_Entity\b|_Any\b|_entities\b/.test(change.description)
  );
}

export function diffSchemas(scope: string, before: GraphQLSchema, after: GraphQLSchema): SchemaChange[] {
  const breaking = findBreakingChanges(before, after).map((c) => ({
    scope,
    severity: 'breaking' as const,
    type: c.type,
    description: c.description,
    why: WHY[c.type] ?? 'existing operations may stop working',
  }));
  const dangerous = findDangerousChanges(before, after).map((c) => ({
    scope,
    severity: 'dangerous' as const,
    type: c.type,
    description: c.description,
    why: WHY[c.type] ?? 'existing clients may behave differently',
  }));
  return [...breaking, ...dangerous];
}

/** The line that acknowledges a change (copy it into schema-changes.acknowledged). */
export function acknowledgement(change: SchemaChange): string {
  return `${change.scope}: ${change.type} ${change.description}`;
}
