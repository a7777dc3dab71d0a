// What client input may be, checked where it enters (every service's HTTP front and the
// GraphQL layers of the gateway and the subgraphs), so nothing deeper meets it unchecked:
// - bounds on the nesting depth and the number of values of `variables` and `extensions`,
//   checked once at the HTTP edge before anything recurses over them (JSON.stringify in a
//   cache key overflowed the stack on 5,000 levels: an anonymous HTTP 500);
// - text: no NUL (Postgres refuses it in text) and no lone UTF-16 surrogate (it cannot be
//   encoded as UTF-8, so it was silently replaced) in any String, ID or DateTime input;
// - DateTime: a real calendar date-time with a four-digit year (0001–9999, inside what
//   Postgres stores; year 0 does not exist there), not whatever `new Date()` accepts.
// The GraphQL rule walks each argument with its input type, so an error names the argument
// path (`addReview.input.body`) as `badUserInput` does elsewhere.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode, trellisError } from '@trellis/errors';
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  isScalarType,
  Kind,
  TypeInfo,
  type ValueNode,
  visit,
  visitWithTypeInfo,
} from 'graphql';

export interface InputBounds {
  /** Deepest nesting of objects and arrays in `variables` (or `extensions`): `{}` is 1. @default 32 */
  maxDepth: number;
  /** Most values (objects, arrays and leaves together) in one of them. @default 10_000 */
  maxValues: number;
}

export const DEFAULT_INPUT_BOUNDS: InputBounds = { maxDepth: 32, maxValues: 10_000 };

/**
 * Why `value` exceeds `bounds`, or undefined. Iterative (an explicit stack), so any depth is
 * measured without recursion; it stops at the first bound crossed.
 */
export function boundsProblem(value: unknown, bounds: InputBounds): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  let values = 0;
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (++values > bounds.maxValues) return `more than ${bounds.maxValues} values`;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > bounds.maxDepth) return `nested deeper than ${bounds.maxDepth} levels`;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
  return undefined;
}

/** Why a client string cannot be stored as text, or undefined. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  // String.prototype.isWellFormed (Node 20; the TypeScript lib here predates it).
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed())
    return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/** Days in `month` (1–12) of `year`, Gregorian. */
const daysIn = (year: number, month: number) =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/**
 * Parses an ISO-8601 date (`2026-02-28`, midnight UTC) or date-time (`2026-02-28T10:00:00Z`,
 * seconds and fraction optional, an offset or `Z`; none means UTC). Throws a TypeError
 * naming what is wrong: impossible dates (`2026-02-30`), times past 23:59:59, and instants
 * outside the years 0001–9999.
 */
export function parseDateTime(text: string): Date {
  const match = DATE_TIME.exec(text);
  if (!match) throw new TypeError('DateTime must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z');
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', , sign, oh = '0', om = '0'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month))
    throw new TypeError(`DateTime has no such date: ${y}-${mo}-${d}`);
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59)
    throw new TypeError('DateTime has an impossible time or offset');
  const offsetMinutes = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(Number(`0${fraction}`) * 1000));
  // Date.UTC maps years 0–99 to 1900–1999: set the year explicitly.
  const date = new Date(utc);
  date.setUTCFullYear(year, month - 1, day);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  const utcYear = date.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) throw new TypeError('DateTime must fall within the years 0001 to 9999');
  return date;
}

/** The scalar names whose inputs are text (the DateTime scalar parses its own, with parseDateTime). */
const TEXT_SCALARS = new Set(['String', 'ID', 'DateTime']);

type Path = readonly (string | number)[];

/** A variable used at an input position: checked against each request's value. */
interface VariableSite {
  name: string;
  path: Path;
  type: GraphQLInputType;
}

interface DocumentSites {
  /** A literal already broke the rule: every request with this document is refused. */
  literal?: { path: Path; problem: string };
  variables: VariableSite[];
}

function scalarProblem(scalar: string, value: string): string | undefined {
  const problem = textProblem(value);
  if (problem) return problem;
  if (scalar === 'DateTime') {
    try {
      parseDateTime(value);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}

/** BAD_USER_INPUT naming the argument path; HTTP 400 when it stops the request. */
const refuse = (path: Path, problem: string): GraphQLError =>
  trellisError(
    ErrorCode.BAD_USER_INPUT,
    `Argument "${path.join('.')}" ${problem.replace(/^DateTime /, 'is not a valid DateTime: ')}`,
    {
      argumentPath: path,
      http: { status: 400 },
    },
  );

/** Checks a runtime (variable) value against its input type; iterative over the value's nesting. */
function checkValue(value: unknown, type: GraphQLInputType, path: Path): GraphQLError | undefined {
  const stack: [unknown, GraphQLInputType, Path][] = [[value, type, path]];
  while (stack.length > 0) {
    const [current, currentType, at] = stack.pop() as [unknown, GraphQLInputType, Path];
    if (current === null || current === undefined) continue;
    const nullable = getNullableType(currentType);
    if (isListType(nullable)) {
      const items = Array.isArray(current) ? current : [current];
      items.forEach((item, index) => {
        stack.push([item, nullable.ofType, Array.isArray(current) ? [...at, index] : at]);
      });
    } else if (isInputObjectType(nullable)) {
      if (typeof current !== 'object' || Array.isArray(current)) continue;
      const fields = nullable.getFields();
      for (const [name, field] of Object.entries(current)) {
        const definition = fields[name];
        if (definition) stack.push([field, definition.type, [...at, name]]);
      }
    } else if (isScalarType(nullable) && TEXT_SCALARS.has(nullable.name) && typeof current === 'string') {
      const problem = scalarProblem(nullable.name, current);
      if (problem) return refuse(at, problem);
    }
  }
  return undefined;
}

/** Literal values are checked once per document; variables are recorded with their input type. */
function compile(schema: GraphQLSchema, document: DocumentNode): DocumentSites {
  const sites: DocumentSites = { variables: [] };
  const typeInfo = new TypeInfo(schema);
  const fieldPath: string[] = [];
  const walkLiteral = (node: ValueNode, type: GraphQLInputType | undefined, path: Path) => {
    if (!type || sites.literal) return;
    const nullable = getNullableType(type);
    if (node.kind === Kind.VARIABLE) {
      sites.variables.push({ name: node.name.value, path, type });
    } else if (node.kind === Kind.LIST) {
      node.values.forEach((item, index) => {
        walkLiteral(item, isListType(nullable) ? nullable.ofType : undefined, [...path, index]);
      });
    } else if (node.kind === Kind.OBJECT) {
      const fields = isInputObjectType(nullable) ? nullable.getFields() : {};
      for (const field of node.fields)
        walkLiteral(field.value, fields[field.name.value]?.type, [...path, field.name.value]);
    } else if (node.kind === Kind.STRING) {
      const named = getNamedType(type);
      if (isScalarType(named) && TEXT_SCALARS.has(named.name)) {
        const problem = scalarProblem(named.name, node.value);
        if (problem) sites.literal = { path, problem };
      }
    }
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter: (node) => {
          fieldPath.push(node.alias?.value ?? node.name.value);
        },
        leave: () => {
          fieldPath.pop();
        },
      },
      Argument(node) {
        const argument = typeInfo.getArgument();
        walkLiteral(node.value, argument?.type, [...fieldPath, node.name.value]);
        return false;
      },
    }),
  );
  return sites;
}

/**
 * Apollo plugin: refuses, before execution (and at the gateway before any subgraph fetch), a
 * String, ID or DateTime input that breaks the text or date rule, with BAD_USER_INPUT, HTTP
 * 400 and the argument path. Documents are compiled once (a WeakMap on Apollo's cached
 * parsed document); each request then walks only its variables' values.
 */
export function createInputRulesPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const compiled = new WeakMap<DocumentNode, DocumentSites>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, schema, request }) {
          let sites = compiled.get(document);
          if (!sites) {
            sites = compile(schema, document);
            compiled.set(document, sites);
          }
          if (sites.literal) throw refuse(sites.literal.path, sites.literal.problem);
          const variables = request.variables ?? {};
          for (const site of sites.variables) {
            const error = checkValue(variables[site.name], site.type, site.path);
            if (error) throw error;
          }
        },
      };
    },
  };
}
