// Demand control: an operation's estimated cost from the supergraph's `@cost` and `@listSize`
// (Federation 2.9, composed into the supergraph by the cost spec link), GitHub-like:
// - a composite field costs 1 or its @cost weight (leaves 0 unless weighted); arguments and
//   the input fields a client sets add their @cost weights (e.g. `ProductFilter.search`);
// - a field with slicing arguments (@listSize `slicingArguments`, else `first`/`last`)
//   multiplies by the page asked for, or its `assumedSize`, or 20 (the connections' default
//   page). With `sizedFields` only those children (a connection's `edges`) are multiplied —
//   `pageInfo` and `totalCount` are paid once; without, the whole selection is;
// - a plain list multiplies its selection by its @listSize assumedSize, or 10.
// The names come from the supergraph's `@link(url: ".../cost/v0.x")` (renames honoured).
import {
  type ArgumentNode,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLInputType,
  getNamedType,
  isCompositeType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  type SchemaDefinitionNode,
  type SchemaExtensionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';

export interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/** Cost hints read from the supergraph, by schema coordinate (`Type.field`, `Type.field(arg:)`, `Input.field`). */
export interface CostHints {
  weights: Map<string, number>;
  listSizes: Map<string, ListSize>;
  /** Coordinates of fields some @listSize sizes (`ProductConnection.edges`): not multiplied again as lists. */
  sized: Set<string>;
}

export const EMPTY_COST_HINTS: CostHints = { weights: new Map(), listSizes: new Map(), sized: new Set() };

const DEFAULT_LIST_SIZE = 10;
const DEFAULT_PAGE_SIZE = 20;
const COST_SPEC = /^https:\/\/specs\.apollo\.dev\/cost\/v\d+\.\d+$/;

const strings = (value: ValueNode | undefined) =>
  value?.kind === Kind.LIST ? value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : undefined;

/** The names the supergraph gives @cost and @listSize (its cost spec link; the plain names without one). */
function directiveNames(schemas: (SchemaDefinitionNode | SchemaExtensionNode)[]): { cost: string; listSize: string } {
  for (const schema of schemas) {
    for (const link of schema.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const args = new Map((link.arguments ?? []).map((a) => [a.name.value, a.value]));
      const url = args.get('url');
      if (url?.kind !== Kind.STRING || !COST_SPEC.test(url.value)) continue;
      const as = args.get('as');
      const prefix = as?.kind === Kind.STRING ? as.value : 'cost';
      let listSize = `${prefix}__listSize`;
      const imports = args.get('import');
      for (const entry of imports?.kind === Kind.LIST ? imports.values : []) {
        if (entry.kind === Kind.STRING && entry.value === '@listSize') listSize = 'listSize';
        if (entry.kind === Kind.OBJECT) {
          const fields = new Map(entry.fields.map((f) => [f.name.value, f.value]));
          const name = fields.get('name');
          const renamed = fields.get('as');
          if (name?.kind === Kind.STRING && name.value === '@listSize' && renamed?.kind === Kind.STRING)
            listSize = renamed.value.replace(/^@/, '');
        }
      }
      return { cost: prefix, listSize };
    }
  }
  return { cost: 'cost', listSize: 'listSize' };
}

/** Reads @cost(weight) and @listSize(...) applications from a supergraph SDL. */
export function readCostHints(supergraphSdl: string): CostHints {
  const hints: CostHints = { weights: new Map(), listSizes: new Map(), sized: new Set() };
  const document = parse(supergraphSdl);
  const names = directiveNames(
    document.definitions.filter(
      (d): d is SchemaDefinitionNode | SchemaExtensionNode =>
        d.kind === Kind.SCHEMA_DEFINITION || d.kind === Kind.SCHEMA_EXTENSION,
    ),
  );
  /** Field return types, to turn `sizedFields` into coordinates of the returned type. */
  const sizedOn: [string, string[]][] = [];
  const record = (coordinate: string, directives: readonly DirectiveNode[] | undefined, returns?: string) => {
    for (const directive of directives ?? []) {
      const args = new Map((directive.arguments ?? []).map((a: ArgumentNode) => [a.name.value, a.value]));
      const weight = args.get('weight');
      if (directive.name.value === names.cost && weight?.kind === Kind.INT) {
        hints.weights.set(coordinate, Number(weight.value));
      }
      if (directive.name.value === names.listSize) {
        const assumed = args.get('assumedSize');
        const slicingArguments = strings(args.get('slicingArguments'));
        const sizedFields = strings(args.get('sizedFields'));
        hints.listSizes.set(coordinate, {
          ...(assumed?.kind === Kind.INT ? { assumedSize: Number(assumed.value) } : {}),
          ...(slicingArguments ? { slicingArguments } : {}),
          ...(sizedFields ? { sizedFields } : {}),
        });
        if (sizedFields && returns) sizedOn.push([returns, sizedFields]);
      }
    }
  };
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const type = definition.name.value;
    record(type, definition.directives);
    if (!('fields' in definition)) continue;
    for (const field of definition.fields ?? []) {
      let returns: string | undefined;
      if (field.kind === Kind.FIELD_DEFINITION) {
        let named = field.type;
        while (named.kind !== Kind.NAMED_TYPE) named = named.type;
        returns = named.name.value;
        for (const arg of field.arguments ?? [])
          record(`${type}.${field.name.value}(${arg.name.value}:)`, arg.directives);
      }
      record(`${type}.${field.name.value}`, field.directives, returns);
    }
  }
  for (const [type, fields] of sizedOn) for (const field of fields) hints.sized.add(`${type}.${field}`);
  return hints;
}

/** @cost weights of the arguments a client set, and of the input fields inside them. */
function argumentsWeight(
  coordinate: string,
  definitions: readonly GraphQLArgument[],
  args: Record<string, unknown>,
  weights: Map<string, number>,
): number {
  const inputWeight = (type: GraphQLInputType, value: unknown): number => {
    const named = getNamedType(type);
    if (!isInputObjectType(named) || value === null || typeof value !== 'object') return 0;
    let sum = 0;
    for (const item of Array.isArray(value) ? value : [value]) {
      for (const [name, field] of Object.entries(named.getFields())) {
        const set = (item as Record<string, unknown>)[name];
        if (set === undefined || set === null) continue;
        sum += (weights.get(`${named.name}.${name}`) ?? 0) + inputWeight(field.type, set);
      }
    }
    return sum;
  };
  let sum = 0;
  for (const arg of definitions) {
    const value = args[arg.name];
    if (value === undefined || value === null) continue;
    sum += (weights.get(`${coordinate}(${arg.name}:)`) ?? 0) + inputWeight(arg.type, value);
  }
  return sum;
}

/** The sized children of a field: its selections (through fragments) named in `sizedFields`. */
function sizedChildren(
  selectionSet: SelectionSetNode | undefined,
  names: string[],
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  out: FieldNode[] = [],
  seen = new Set<string>(),
): FieldNode[] {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      if (names.includes(selection.name.value)) out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT)
      sizedChildren(selection.selectionSet, names, fragments, out, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      sizedChildren(fragments.get(selection.name.value)?.selectionSet, names, fragments, out, seen);
    }
  }
  return out;
}

/**
 * The estimator for one getComplexity call (it remembers its children's costs to size a
 * connection's `edges` only): create one per call.
 */
export function costEstimator(
  hints: () => CostHints,
  /** The document's fragments, to find sized children spread into a connection. */
  fragments: ReadonlyMap<string, FragmentDefinitionNode> = new Map(),
): ComplexityEstimator {
  const costOf = new WeakMap<FieldNode, number>();
  return ({ type, field, args, node, childComplexity }) => {
    const current = hints();
    const coordinate = `${type.name}.${field.name}`;
    const named = getNamedType(field.type);
    const composite = isCompositeType(named);
    const weight =
      (current.weights.get(coordinate) ?? current.weights.get(named.name) ?? (composite ? 1 : 0)) +
      argumentsWeight(coordinate, field.args, args, current.weights);
    const listSize = current.listSizes.get(coordinate);
    const slicing = listSize?.slicingArguments ?? ['first', 'last'];
    const sliced = slicing.map((name) => args[name]).find((value) => typeof value === 'number') as number | undefined;
    const hasSlicing = slicing.some((name) => field.args.some((a) => a.name === name));
    const unwrapped = isNonNullType(field.type) ? field.type.ofType : field.type;
    let cost: number;
    if (hasSlicing) {
      const page = sliced ?? listSize?.assumedSize ?? DEFAULT_PAGE_SIZE;
      if (listSize?.sizedFields) {
        const sized = sizedChildren(node.selectionSet, listSize.sizedFields, fragments).reduce(
          (sum, child) => sum + (costOf.get(child) ?? 0),
          0,
        );
        cost = weight + (childComplexity - sized) + page * sized;
      } else cost = weight + page * childComplexity;
    } else if (
      // A connection's `edges`/`nodes` are its page: already counted by `first`/`last`.
      isListType(unwrapped) &&
      !current.sized.has(coordinate) &&
      !type.name.endsWith('Connection')
    ) {
      cost = weight + (listSize?.assumedSize ?? DEFAULT_LIST_SIZE) * childComplexity;
    } else cost = weight + childComplexity;
    costOf.set(node, cost);
    return cost;
  };
}
