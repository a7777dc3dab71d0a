// Classifies each breaking schema change by who uses what it breaks: the schema coordinates
// a change touches (from graphql-js's description of it), looked up in recorded usage and in
// every registered client's trusted-documents manifest. Used → fails naming the operations,
// clients, versions, last seen and counts; unused in the window and in every manifest → safe,
// with that evidence; acknowledged → passes as before; no usage data or a change whose
// coordinates cannot be told → needs acknowledgement, as before usage was recorded.
import { acknowledgement, type SchemaChange } from '@trellis/composition/changes';
import {
  BreakingChangeType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
} from 'graphql';
import type { ManifestOperationUse } from './manifests.ts';
import { type ClientUsage, operationsUsing, requestsOf, type UsageSnapshot } from './snapshot.ts';

export type Verdict = 'used' | 'safe' | 'acknowledged' | 'unverified';

export interface OperationEvidence {
  name: string;
  hash: string;
  requests: number;
  clients: ClientUsage[];
}

export interface ClassifiedChange extends SchemaChange {
  verdict: Verdict;
  /** Coordinates whose use breaks (empty when the change cannot be mapped to any). */
  coordinates: string[];
  operations: OperationEvidence[];
  manifests: ManifestOperationUse[];
  /** One line of evidence for the verdict. */
  evidence: string;
}

const PATTERNS: [string, RegExp, (m: RegExpExecArray) => string[]][] = [
  [BreakingChangeType.FIELD_REMOVED, /^(\w+)\.(\w+) was removed\.$/, (m) => [`${m[1]}.${m[2]}`]],
  [BreakingChangeType.FIELD_CHANGED_KIND, /^(\w+)\.(\w+) changed type from /, (m) => [`${m[1]}.${m[2]}`]],
  [BreakingChangeType.ARG_REMOVED, /^(\w+)\.(\w+) arg (\w+) was removed\.$/, (m) => [`${m[1]}.${m[2]}(${m[3]}:)`]],
  [
    BreakingChangeType.ARG_CHANGED_KIND,
    /^(\w+)\.(\w+) arg (\w+) has changed type from /,
    (m) => [`${m[1]}.${m[2]}(${m[3]}:)`],
  ],
  // Every existing call of the field lacks the new argument.
  [
    BreakingChangeType.REQUIRED_ARG_ADDED,
    /^A required arg \w+ on (\w+)\.(\w+) was added\.$/,
    (m) => [`${m[1]}.${m[2]}`],
  ],
  [BreakingChangeType.TYPE_REMOVED, /^(\w+) was removed\.$/, (m) => [m[1]!]],
  [BreakingChangeType.TYPE_CHANGED_KIND, /^(\w+) changed from /, (m) => [m[1]!]],
  // A value may arrive through variables, which usage does not see: any use of the enum counts.
  [
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
    /^(\w+) was removed from enum type (\w+)\.$/,
    (m) => [`${m[2]}.${m[1]}`, m[2]!],
  ],
  [BreakingChangeType.TYPE_REMOVED_FROM_UNION, /^(\w+) was removed from union type (\w+)\.$/, (m) => [m[1]!]],
  [BreakingChangeType.IMPLEMENTED_INTERFACE_REMOVED, /^(\w+) no longer implements interface (\w+)\.$/, (m) => [m[2]!]],
  [
    BreakingChangeType.REQUIRED_INPUT_FIELD_ADDED,
    /^A required field \w+ on input type (\w+) was added\.$/,
    (m) => [m[1]!],
  ],
];

/** The coordinates a change breaks, or undefined when it cannot be told (directives, unknown kinds). */
export function coordinatesOf(change: Pick<SchemaChange, 'type' | 'description'>): string[] | undefined {
  for (const [type, pattern, coordinates] of PATTERNS) {
    if (type !== change.type) continue;
    const match = pattern.exec(change.description);
    if (match) return coordinates(match);
  }
  return undefined;
}

/** Whether `coordinate` (`Type`, `Type.field`, `Enum.VALUE`, `Type.field(arg:)`) exists in `schema`. */
export function hasCoordinate(schema: GraphQLSchema, coordinate: string): boolean {
  const match = /^(\w+)(?:\.(\w+)(?:\((\w+):\))?)?$/.exec(coordinate);
  const type = match?.[1] ? schema.getType(match[1]) : undefined;
  if (!match || !type) return false;
  const [, , member, arg] = match;
  if (!member) return true;
  if (isEnumType(type)) return !arg && type.getValue(member) !== undefined;
  if (!isObjectType(type) && !isInterfaceType(type) && !isInputObjectType(type)) return false;
  const field = type.getFields()[member];
  if (!field) return false;
  return !arg || ('args' in field && field.args.some((a) => a.name === arg));
}

export function classifyChanges(
  changes: readonly SchemaChange[],
  acknowledged: ReadonlySet<string>,
  usage: UsageSnapshot | undefined,
  manifests: readonly ManifestOperationUse[],
  /** The composed API schema: a subgraph's change to what clients still get from it breaks no client. */
  api?: GraphQLSchema,
): ClassifiedChange[] {
  return changes
    .filter((change) => change.severity === 'breaking')
    .map((change) => {
      const coordinates = coordinatesOf(change) ?? [];
      const wanted = new Set(coordinates);
      const operations: OperationEvidence[] = usage
        ? operationsUsing(usage, coordinates).map((op) => ({
            name: op.name || '(anonymous)',
            hash: op.hash,
            requests: requestsOf(op),
            clients: [...op.clients].sort((a, b) => b.requests - a.requests),
          }))
        : [];
      const inManifests = manifests.filter((m) => m.coordinates.some((c) => wanted.has(c)));
      const base = { ...change, coordinates, operations, manifests: inManifests };
      const used = operations.length > 0 || inManifests.length > 0;
      const who = describeUse(operations, inManifests);
      if (acknowledged.has(acknowledgement(change)))
        return {
          ...base,
          verdict: 'acknowledged' as const,
          evidence: used ? `acknowledged; still used: ${who}` : 'acknowledged',
        };
      if (coordinates.length === 0)
        return { ...base, verdict: 'unverified' as const, evidence: 'usage cannot tell who this change breaks' };
      if (usage && api && change.scope !== 'supergraph' && coordinates.every((c) => hasCoordinate(api, c)))
        return {
          ...base,
          verdict: 'safe' as const,
          evidence: `clients still get ${coordinates.join(', ')} from the composed API schema (the supergraph's own changes are checked above)`,
        };
      if (used) return { ...base, verdict: 'used' as const, evidence: `used by ${who}` };
      if (!usage)
        return { ...base, verdict: 'unverified' as const, evidence: 'no usage data to tell whether anyone uses it' };
      const clients = new Set(usage.operations.flatMap((op) => op.clients.map((c) => `${c.name}\n${c.version}`)));
      return {
        ...base,
        verdict: 'safe' as const,
        evidence: `no operation used ${coordinates.join(', ')} in the last ${usage.windowDays} days (${usage.totalRequests} requests of ${usage.operations.length} operations from ${clients.size} client versions recorded since ${usage.since.slice(0, 10)}, ${usage.source}) and no registered client's trusted documents use it`,
      };
    });
}

function describeUse(operations: OperationEvidence[], manifests: ManifestOperationUse[]): string {
  const parts = operations.map((op) => `operation ${op.name} (${op.requests} requests)`);
  for (const m of manifests) parts.push(`${m.client}'s trusted document ${m.operation}`);
  return parts.join(', ');
}
