// Who uses a schema coordinate, and what every @deprecated member of the API schema is still
// used by: the evidence a team needs before removing something.
import {
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
} from 'graphql';
import type { ManifestOperationUse } from './manifests.ts';
import { clientLabel, operationsUsing, requestsOf, type UsageSnapshot } from './snapshot.ts';

export interface CoordinateUsage {
  coordinate: string;
  deprecationReason?: string | undefined;
  requests: number;
  lastSeen: string | null;
  operations: {
    name: string;
    hash: string;
    requests: number;
    clients: UsageSnapshot['operations'][number]['clients'];
  }[];
  manifests: { client: string; operation: string }[];
}

export function coordinateUsage(
  coordinate: string,
  usage: UsageSnapshot | undefined,
  manifests: readonly ManifestOperationUse[],
): CoordinateUsage {
  const operations = usage
    ? operationsUsing(usage, [coordinate]).map((op) => ({
        name: op.name || '(anonymous)',
        hash: op.hash,
        requests: requestsOf(op),
        clients: [...op.clients].sort((a, b) => b.requests - a.requests),
      }))
    : [];
  const lastSeen = operations
    .flatMap((op) => op.clients.map((c) => c.lastSeen))
    .sort()
    .at(-1);
  return {
    coordinate,
    requests: operations.reduce((n, op) => n + op.requests, 0),
    lastSeen: lastSeen ?? null,
    operations,
    manifests: manifests
      .filter((m) => m.coordinates.includes(coordinate))
      .map(({ client, operation }) => ({ client, operation })),
  };
}

/** Every deprecated field, argument, input field and enum value of `schema`, with its reason. */
export function deprecatedCoordinates(schema: GraphQLSchema): { coordinate: string; reason: string }[] {
  const found: { coordinate: string; reason: string }[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (field.deprecationReason)
          found.push({ coordinate: `${type.name}.${field.name}`, reason: field.deprecationReason });
        for (const arg of field.args)
          if (arg.deprecationReason)
            found.push({ coordinate: `${type.name}.${field.name}(${arg.name}:)`, reason: arg.deprecationReason });
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (field.deprecationReason)
          found.push({ coordinate: `${type.name}.${field.name}`, reason: field.deprecationReason });
    } else if (isEnumType(type)) {
      for (const value of type.getValues())
        if (value.deprecationReason)
          found.push({ coordinate: `${type.name}.${value.name}`, reason: value.deprecationReason });
    }
  }
  return found.sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}

export function coordinateUsageText(entry: CoordinateUsage, usage: UsageSnapshot | undefined): string {
  const lines = [`${entry.coordinate}${entry.deprecationReason ? ` (deprecated: ${entry.deprecationReason})` : ''}`];
  if (usage)
    lines.push(
      entry.operations.length
        ? `  ${entry.requests} requests in the last ${usage.windowDays} days, last seen ${entry.lastSeen}`
        : `  unused in the last ${usage.windowDays} days (${usage.totalRequests} requests recorded, ${usage.source})`,
    );
  for (const op of entry.operations) {
    lines.push(`  operation ${op.name} — ${op.requests} requests`);
    for (const c of op.clients)
      lines.push(`    ${clientLabel(c)}: ${c.requests} requests, ${c.errors} errors, last seen ${c.lastSeen}`);
  }
  for (const m of entry.manifests) lines.push(`  client ${m.client}: trusted document ${m.operation}`);
  if (!entry.operations.length && !entry.manifests.length && usage) lines.push('  safe to remove: no client uses it');
  return `${lines.join('\n')}\n`;
}
