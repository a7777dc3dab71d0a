// Every registered client's trusted-documents manifest (clients/<name>/persisted-operations.json),
// with the schema coordinates each operation touches in a given API schema: operations a
// client ships count as used even before (or without) any recorded traffic.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { operationCoordinates } from '@trellis/gateway/usage';
import { type GraphQLSchema, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { listClients } from '../codegen.ts';

export interface ManifestOperationUse {
  /** The client folder's name, e.g. `storefront`. */
  client: string;
  operation: string;
  coordinates: string[];
}

export function manifestUses(
  schema: GraphQLSchema,
  clientDirs: readonly string[] = listClients(),
): ManifestOperationUse[] {
  const uses: ManifestOperationUse[] = [];
  for (const dir of clientDirs) {
    const path = join(dir, 'persisted-operations.json');
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { operations?: { name?: string; body: string }[] };
    for (const op of manifest.operations ?? []) {
      const document = parse(op.body);
      for (const definition of document.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        uses.push({
          client: basename(dir),
          operation: definition.name?.value ?? op.name ?? '(anonymous)',
          coordinates: operationCoordinates(schema, document, definition as OperationDefinitionNode),
        });
      }
    }
  }
  return uses;
}
