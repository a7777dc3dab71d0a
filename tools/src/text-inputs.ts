// Every String, ID and DateTime input position of every subgraph's SDL — arguments and
// input-object fields, nested, at root and nested fields — as operations that carry a bad
// value there through the gateway. The hostile-input e2e test and the fuzz corpus send them;
// the gateway must answer each with BAD_USER_INPUT naming that argument path.
import { readFileSync } from 'node:fs';
import {
  astFromValue,
  buildASTSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  print,
} from 'graphql';
import { listSubgraphs, ROOT } from './workspace.ts';

export const TEXT_SCALARS = ['String', 'ID', 'DateTime'] as const;

/** Bad values per scalar: NUL and a lone surrogate anywhere; impossible and out-of-range dates for DateTime. */
export const BAD_VALUES: Record<(typeof TEXT_SCALARS)[number], string[]> = {
  String: ['ab\u0000c', 'ab\ud800c', 'x\udc00'],
  ID: ['1\u0000', '\ud83d1'],
  DateTime: [
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00+01:00',
    '-000001-01-01T00:00:00Z',
    '275760-09-13T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00Z\u0000',
  ],
};

export interface TextInputCase {
  /** `Type.field(arg).inner.path` and the value, for messages. */
  label: string;
  query: string;
  variables: { v: unknown };
  /** The path the gateway's error must name. */
  argumentPath: (string | number)[];
  scalar: (typeof TEXT_SCALARS)[number];
  bad: string;
  /** The operation is a mutation or touches @authenticated/@requiresScopes fields: send an admin token. */
  mutation: boolean;
}

/** The composed graph as a plain schema (every type of every subgraph; directives ignored). */
export function supergraphSchema(path = `${ROOT}/supergraph.graphql`): GraphQLSchema {
  return buildASTSchema(parse(readFileSync(path, 'utf8')), { assumeValidSDL: true });
}

/** A valid value of `type` (required input fields filled, the rest left out). */
function filler(type: GraphQLInputType): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [filler(nullable.ofType)];
  if (isInputObjectType(nullable)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(nullable.getFields()))
      if (isNonNullType(field.type)) value[field.name] = filler(field.type);
    return value;
  }
  if (isEnumType(nullable)) return nullable.getValues()[0]?.value;
  switch ((nullable as GraphQLNamedType).name) {
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return true;
    case 'DateTime':
      return '2026-01-01T00:00:00Z';
    default:
      return '1';
  }
}

/** Text positions inside an input type: inner path (list items at index 0) and scalar. */
function positions(
  type: GraphQLInputType,
  seen: Set<string> = new Set(),
): { path: (string | number)[]; scalar: (typeof TEXT_SCALARS)[number] }[] {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return positions(nullable.ofType, seen).map((p) => ({ ...p, path: [0, ...p.path] }));
  if (isInputObjectType(nullable)) {
    if (seen.has(nullable.name)) return [];
    const inner = new Set(seen).add(nullable.name);
    return Object.values(nullable.getFields()).flatMap((field) =>
      positions(field.type, inner).map((p) => ({ ...p, path: [field.name, ...p.path] })),
    );
  }
  if (isScalarType(nullable) && (TEXT_SCALARS as readonly string[]).includes(nullable.name))
    return [{ path: [], scalar: nullable.name as (typeof TEXT_SCALARS)[number] }];
  return [];
}

/** `value` of `type` with `bad` at `path` (required fields around it filled). */
function placed(type: GraphQLInputType, path: readonly (string | number)[], bad: string): unknown {
  if (path.length === 0) return bad;
  const nullable = getNullableType(type);
  const [head, ...rest] = path;
  if (isListType(nullable)) return [placed(nullable.ofType, rest, bad)];
  if (isInputObjectType(nullable)) {
    const value = filler(nullable) as Record<string, unknown>;
    const field = nullable.getFields()[head as string];
    if (field) value[head as string] = placed(field.type, rest, bad);
    return value;
  }
  return bad;
}

const literal = (arg: GraphQLArgument) => {
  const node = astFromValue(filler(arg.type), arg.type);
  return node ? `${arg.name}: ${print(node)}` : '';
};
const requiredArgs = (field: GraphQLField<unknown, unknown>, except?: string) =>
  field.args.filter((arg) => arg.name !== except && isNonNullType(arg.type)).map(literal);
const call = (field: GraphQLField<unknown, unknown>, args: string[]) =>
  args.length ? `${field.name}(${args.join(', ')})` : field.name;
const selection = (field: GraphQLField<unknown, unknown>) =>
  isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';

/** Shortest field path from a root type to each object type (BFS), as selections to wrap around a field. */
function routes(
  schema: GraphQLSchema,
): Map<string, { root: 'query' | 'mutation'; fields: GraphQLField<unknown, unknown>[] }> {
  const found = new Map<string, { root: 'query' | 'mutation'; fields: GraphQLField<unknown, unknown>[] }>();
  const queue: { type: GraphQLObjectType; root: 'query' | 'mutation'; fields: GraphQLField<unknown, unknown>[] }[] = [];
  for (const [root, type] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    if (type) {
      found.set(type.name, { root, fields: [] });
      queue.push({ type, root, fields: [] });
    }
  }
  while (queue.length > 0) {
    const { type, root, fields } = queue.shift() as (typeof queue)[number];
    for (const field of Object.values(type.getFields())) {
      const target = getNamedType(field.type);
      if (!isObjectType(target) || found.has(target.name)) continue;
      const route = { root, fields: [...fields, field] };
      found.set(target.name, route);
      queue.push({ type: target, ...route });
    }
  }
  return found;
}

/**
 * One case per (text position, bad value) of every subgraph's SDL. Throws when an SDL field
 * with text inputs cannot be reached from a root type (the walk would silently skip it).
 */
export function textInputCases(schema: GraphQLSchema = supergraphSchema()): TextInputCase[] {
  const reach = routes(schema);
  const cases: TextInputCase[] = [];
  const done = new Set<string>();
  for (const info of listSubgraphs()) {
    const sdl = parse(readFileSync(info.schemaPath, 'utf8'));
    for (const definition of sdl.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      for (const fieldNode of definition.fields ?? []) {
        if (!fieldNode.arguments?.length) continue;
        const key = `${definition.name.value}.${fieldNode.name.value}`;
        if (done.has(key)) continue;
        done.add(key);
        const type = schema.getType(definition.name.value);
        const field = type instanceof GraphQLObjectType ? type.getFields()[fieldNode.name.value] : undefined;
        if (!field) continue;
        for (const arg of field.args) {
          for (const { path, scalar } of positions(arg.type)) {
            const route = reach.get(definition.name.value);
            if (!route)
              throw new Error(`${key}(${arg.name}) has text inputs but ${definition.name.value} is unreachable`);
            for (const bad of BAD_VALUES[scalar]) {
              const inner = `${call(field, [`${arg.name}: $v`, ...requiredArgs(field, arg.name)])}${selection(field)}`;
              const body = route.fields.reduceRight(
                (nested, outer) => `${call(outer, requiredArgs(outer))} { ${nested} }`,
                inner,
              );
              const variableType = isNonNullType(arg.type) ? arg.type : new GraphQLNonNull(arg.type);
              cases.push({
                label: `${key}(${[arg.name, ...path].join('.')}) = ${JSON.stringify(bad)}`,
                query: `${route.root} T($v: ${variableType.toString()}) { ${body} }`,
                variables: { v: placed(arg.type, path, bad) },
                argumentPath: [...route.fields.map((f) => f.name), field.name, arg.name, ...path],
                scalar,
                bad,
                mutation: route.root === 'mutation',
              });
            }
          }
        }
      }
    }
  }
  return cases;
}
