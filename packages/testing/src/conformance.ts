// The subgraph conformance suite: every subgraph runs it (test/conformance.int.test.ts).
// It checks what the gateway and clients rely on, read from the subgraph's own SDL:
// _service.sdl matches the schema file; every @key resolves for a batch in one statement;
// unknown ids of owned entities are null; every connection enforces its limits with typed
// errors; every pool connection carries statement and idle-in-transaction timeouts.
import { type AnySchema, loadTypeDefs, type SubgraphDefinition } from '@trellis/subgraph-kit';
import {
  type DefinitionNode,
  type FieldDefinitionNode,
  Kind,
  type ObjectTypeDefinitionNode,
  parse,
  print,
  type TypeNode,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestSubgraph, type TestSubgraph } from './subgraph.ts';

export interface ConformanceOptions {
  /** Path of the subgraph's schema.graphql (the contract). */
  schemaFile: URL;
  /** Entity types this subgraph owns: an unknown id must resolve to null. */
  ownedEntities: string[];
  /** Ids that exist in the test seed for every entity type. @default ['1', '2', '3', '4', '5'] */
  knownIds?: string[];
}

const UNKNOWN_ID = '987654321';

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

function isLeaf(field: FieldDefinitionNode, leafTypes: Set<string>): boolean {
  return leafTypes.has(namedType(field.type));
}

function hasDirective(node: { directives?: readonly { name: { value: string } }[] }, name: string): boolean {
  return (node.directives ?? []).some((d) => d.name.value === name);
}

/** Normalised print of a definition, without descriptions (formatting differs, meaning not). */
function normalise(definition: DefinitionNode): string {
  return print(
    JSON.parse(JSON.stringify(definition), (key, value) =>
      key === 'description' || key === 'loc' ? undefined : value,
    ),
  );
}

export function describeConformance<TSchema extends AnySchema, TLoaders>(
  definition: SubgraphDefinition<TSchema, TLoaders>,
  options: ConformanceOptions,
): void {
  const document = loadTypeDefs(options.schemaFile);
  const objects = document.definitions.filter(
    (d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION,
  );
  const leafTypes = new Set(['ID', 'String', 'Int', 'Float', 'Boolean']);
  for (const d of document.definitions) {
    if (d.kind === Kind.SCALAR_TYPE_DEFINITION || d.kind === Kind.ENUM_TYPE_DEFINITION) leafTypes.add(d.name.value);
  }
  const entities = objects.filter((o) => hasDirective(o, 'key') && !String(print(o)).includes('resolvable: false'));
  const knownIds = options.knownIds ?? ['1', '2', '3', '4', '5'];

  describe(`${definition.name}: subgraph conformance`, () => {
    let service: TestSubgraph;
    beforeAll(async () => {
      service = await startTestSubgraph(definition, inject('databaseUrl'));
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('publishes the schema file as its _service.sdl', async () => {
      const { body } = await service.query<{ _service: { sdl: string } }>('{ _service { sdl } }');
      const definitions = parse(body.data!._service.sdl).definitions;
      // @apollo/subgraph 2.15 prints federation's own root fields (_entities, _service) in an
      // `extend type Query` of their own: nothing else may be in an extension.
      const extensions = definitions.filter((d) => d.kind === Kind.OBJECT_TYPE_EXTENSION);
      for (const extension of extensions)
        expect(
          (extension.fields ?? []).map((f) => f.name.value).filter((f) => f !== '_entities' && f !== '_service'),
          `extend type ${extension.name.value}`,
        ).toEqual([]);
      const published = new Map(
        definitions
          .filter((d) => 'name' in d && d.name && d.kind !== Kind.OBJECT_TYPE_EXTENSION)
          .map((d) => [(d as { name: { value: string } }).name.value, d]),
      );
      for (const own of document.definitions) {
        if (!('name' in own) || !own.name) continue;
        const theirs = published.get(own.name.value);
        expect(theirs, `type ${own.name.value}`).toBeDefined();
        let printed = normalise(theirs!);
        if (own.name.value === 'Query')
          printed = printed.replace(/\n\s*_entities\(.*\n/, '\n').replace(/\n\s*_service: _Service!/, '');
        expect(printed, `type ${own.name.value}`).toBe(normalise(own));
      }
    });

    for (const entity of entities) {
      const name = entity.name.value;
      const leaves = (entity.fields ?? []).filter(
        (f) =>
          isLeaf(f, leafTypes) &&
          !(f.arguments ?? []).length &&
          !hasDirective(f, 'external') &&
          !hasDirective(f, 'requires'),
      );
      const selection = leaves.map((f) => f.name.value).join(' ') || 'id';
      const owned = options.ownedEntities.includes(name);

      it(`resolves a batch of ${name} references in at most one statement${owned ? ', unknown ids as null' : ''}`, async () => {
        const ids = [...knownIds, UNKNOWN_ID];
        service.statements.reset();
        const { body } = await service.query(
          `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on ${name} { ${selection} } } }`,
          { r: ids.map((id) => ({ __typename: name, id })) },
        );
        expect(body.errors).toBeUndefined();
        const result = (body.data as { _entities: (Record<string, unknown> | null)[] })._entities;
        expect(result).toHaveLength(ids.length);
        for (const [index, id] of knownIds.entries())
          expect(result[index], `${name} ${id}`).toMatchObject({ __typename: name, id });
        if (owned) expect(result.at(-1)).toBeNull();
        expect(service.statements.count).toBeLessThanOrEqual(1);
      });
    }

    const holders = objects.filter((o) => o.name.value === 'Query' || entities.includes(o));
    for (const holder of holders) {
      for (const field of holder.fields ?? []) {
        if (!namedType(field.type).endsWith('Connection')) continue;
        const where = `${holder.name.value}.${field.name.value}`;
        const selection = '{ edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }';
        /** One or more (aliased) selections of the field, each with its arguments. */
        const call = (...argsList: string[]) => {
          const fields = argsList
            .map((args, i) => `${argsList.length > 1 ? `a${i}: ` : ''}${field.name.value}${args} ${selection}`)
            .join(' ');
          return holder.name.value === 'Query'
            ? `{ ${fields} }`
            : `{ _entities(representations: [{ __typename: "${holder.name.value}", id: "${knownIds[0]}" }]) { ... on ${holder.name.value} { ${fields} } } }`;
        };
        const page = (data: unknown) => {
          const root = data as Record<string, unknown>;
          const value =
            holder.name.value === 'Query'
              ? root[field.name.value]
              : (root._entities as Record<string, unknown>[])[0]?.[field.name.value];
          return value as { edges: unknown[]; pageInfo: Record<string, unknown> };
        };

        // Connections may be visible to their owner only (User.orders): ask as the user whose
        // entity is queried.
        const owner = { as: { userId: knownIds[0] ?? '1', scopes: [] } };

        it(`${where}: rejects bad page arguments with BAD_USER_INPUT at the argument, without SQL`, async () => {
          const cases: [string, string][] = [
            ['(first: 101)', 'first'],
            ['(first: -1)', 'first'],
            ['(last: 101)', 'last'],
            ['(first: 1, last: 1)', 'last'],
            ['(after: "Zm9yZ2Vk.AAAAAAAAAAAA")', 'after'],
            ['(before: "not a cursor")', 'before'],
          ];
          for (const [args, argument] of cases) {
            service.statements.reset();
            const { body } = await service.query(call(args), {}, owner);
            expect(body.errors?.[0]?.extensions?.code, `${where}${args}`).toBe('BAD_USER_INPUT');
            expect((body.errors?.[0]?.extensions?.argumentPath as string[] | undefined)?.[0], `${where}${args}`).toBe(
              argument,
            );
            expect(service.statements.count, `${where}${args} reached SQL`).toBe(0);
          }
        });

        it(`${where}: caps every alias, defaults to 20, and reports an empty page`, async () => {
          const aliased = await service.query(call('(first: 100)', '(first: 101)'), {}, owner);
          expect(aliased.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
          expect(aliased.body.errors?.[0]?.path?.at(-1)).toBe('a1');
          const byDefault = await service.query(call(''), {}, owner);
          expect(byDefault.body.errors).toBeUndefined();
          expect(page(byDefault.body.data).edges.length).toBeLessThanOrEqual(20);
          const empty = await service.query(call('(first: 0)'), {}, owner);
          expect(empty.body.errors).toBeUndefined();
          expect(page(empty.body.data)).toMatchObject({ edges: [], pageInfo: { startCursor: null, endCursor: null } });
        });
      }
    }

    it('states a cache policy on every object type and every Query field (@cacheControl)', () => {
      const missing: string[] = [];
      for (const object of objects) {
        if (object.name.value === 'Mutation') continue;
        if (object.name.value === 'Query') {
          for (const field of object.fields ?? [])
            if (!hasDirective(field, 'cacheControl')) missing.push(`Query.${field.name.value}`);
        } else if (!hasDirective(object, 'cacheControl')) {
          missing.push(object.name.value);
        }
      }
      expect(missing).toEqual([]);
    });

    it('runs every statement under statement and idle-in-transaction timeouts', async () => {
      const [row] = await service.running.database.sql`
        select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
      expect(row).toEqual({ statement: '5s', idle: '10s' });
    });
  });
}
