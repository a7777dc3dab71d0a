// Entity tags: which entities (object types with @key) this subgraph resolved fields of in a
// response, reported in `extensions.trellis` for the gateway's response cache — the cache tags
// an entry with them, and a committed write that changes one drops every entry holding it.
// Bounded: past `maxEntities` a type is reported as "too many to name" (its overflow tag).
import type { ApolloServerPlugin } from '@apollo/server';
import { type EntityReport, EntityReportBuilder } from '@trellis/cache/tags';
import { type DocumentNode, Kind, type StringValueNode } from 'graphql';

export interface EntityTagsOptions {
  typeDefs: DocumentNode;
  /** Entities named per response; beyond it, the types concerned are reported as overflowing. @default 500 */
  maxEntities?: number;
}

/** What a subgraph response carries in `extensions.trellis` (the format: @trellis/cache/tags). */
export type EntityTagsExtension = EntityReport;

/** The first single-field key of every entity type (`@key(fields: "id")` → `id`). */
export function entityKeyFields(typeDefs: DocumentNode): Map<string, string> {
  const keys = new Map<string, string>();
  for (const definition of typeDefs.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'key') continue;
      const fields = directive.arguments?.find((a) => a.name.value === 'fields')?.value as StringValueNode | undefined;
      const field = fields?.value.trim();
      if (field && /^\w+$/.test(field) && !keys.has(definition.name.value)) keys.set(definition.name.value, field);
    }
  }
  return keys;
}

export function createEntityTagsPlugin(options: EntityTagsOptions): ApolloServerPlugin {
  const keys = entityKeyFields(options.typeDefs);
  const max = options.maxEntities ?? 500;
  return {
    async requestDidStart() {
      const report = new EntityReportBuilder(max);
      return {
        async executionDidStart() {
          return {
            willResolveField({ source, info }) {
              const typename = info.parentType.name;
              const field = keys.get(typename);
              if (!field || source === null || typeof source !== 'object') return;
              const id = (source as Record<string, unknown>)[field];
              if (id === undefined || id === null) return;
              report.add(typename, String(id));
            },
          };
        },
        async willSendResponse({ response }) {
          const trellis: EntityTagsExtension | undefined = report.report();
          if (response.body.kind !== 'single' || !trellis) return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, trellis };
        },
      };
    },
  };
}
