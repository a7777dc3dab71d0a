// What one operation is, for usage reporting: its normalised signature (Apollo's usage
// reporting signature: literals stripped, aliases removed, unused definitions dropped,
// sorted, whitespace reduced), a stable hash of it, its name and type, and every schema
// coordinate it touches — `Type.field`, `Type.field(arg:)`, `Type`, `Enum.VALUE` and
// `Input.field` — including those reached through fragments and abstract types (a field
// selected on an interface or union counts for every possible type too). Schema checks read
// these coordinates to know whether a change breaks anyone.
import { createHash } from 'node:crypto';
import { usageReportingSignature } from '@apollo/utils.usagereporting';
import {
  type DocumentNode,
  type ExecutableDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  Kind,
  type OperationDefinitionNode,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
} from 'graphql';

export type OperationType = 'query' | 'mutation' | 'subscription';

export interface OperationShape {
  /** sha256 (hex) of `# <name>\n<signature>`: the same operation text from any client has the same hash. */
  hash: string;
  signature: string;
  name: string;
  type: OperationType;
  /** Sorted, distinct schema coordinates the operation touches. */
  coordinates: string[];
}

/** The signature and hash of `operationName` in `document` (as Apollo reports it). */
export function operationSignature(document: DocumentNode, operationName: string): { signature: string; hash: string } {
  const signature = usageReportingSignature(document, operationName);
  return { signature, hash: createHash('sha256').update(`# ${operationName}\n${signature}`).digest('hex') };
}

/** Every schema coordinate `operation` (with the fragments of `document`) touches in `schema`. */
export function operationCoordinates(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): string[] {
  const coordinates = new Set<string>();
  const addType = (type: GraphQLNamedType | null | undefined) => {
    if (type) coordinates.add(type.name);
  };
  // Only the fragments the operation reaches (another operation's fragments are not its usage).
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const reached = new Set<string>();
  const pending: ExecutableDefinitionNode[] = [operation];
  const nodes: ExecutableDefinitionNode[] = [];
  while (pending.length) {
    const node = pending.pop()!;
    nodes.push(node);
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !reached.has(spread.name.value)) {
          reached.add(spread.name.value);
          pending.push(fragment);
        }
      },
    });
  }
  for (const node of nodes) {
    const typeInfo = new TypeInfo(schema);
    visit(
      node,
      visitWithTypeInfo(typeInfo, {
        Field(field) {
          const parent = typeInfo.getParentType();
          const definition = typeInfo.getFieldDef();
          if (!parent || !definition || field.name.value.startsWith('__')) return;
          const name = field.name.value;
          addType(parent);
          coordinates.add(`${parent.name}.${name}`);
          if (isAbstractType(parent))
            for (const possible of schema.getPossibleTypes(parent)) coordinates.add(`${possible.name}.${name}`);
          addType(getNamedType(definition.type));
        },
        Argument(argument) {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          const definition = typeInfo.getArgument();
          if (!parent || !field || !definition) return;
          coordinates.add(`${parent.name}.${field.name}(${argument.name.value}:)`);
          addType(getNamedType(definition.type));
        },
        ObjectField(objectField) {
          const input = typeInfo.getParentInputType();
          const named = input && getNamedType(input);
          if (named && isInputObjectType(named)) {
            coordinates.add(`${named.name}.${objectField.name.value}`);
            addType(getNamedType(typeInfo.getInputType() ?? undefined));
          }
        },
        EnumValue(value) {
          const type = getNamedType(typeInfo.getInputType() ?? undefined);
          if (type && isEnumType(type)) coordinates.add(`${type.name}.${value.value}`);
        },
        InlineFragment(fragment) {
          if (fragment.typeCondition) addType(typeInfo.getType() && getNamedType(typeInfo.getType()!));
        },
        FragmentDefinition() {
          addType(typeInfo.getType() && getNamedType(typeInfo.getType()!));
        },
        VariableDefinition(definition) {
          const type = typeFromAST(schema, definition.type);
          if (type) addType(getNamedType(type));
        },
      }),
    );
  }
  return [...coordinates].sort();
}

/** The usage-reporting shape of the operation named `operationName` (or the only one) in `document`. */
export function describeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): OperationShape {
  const name = operation.name?.value ?? '';
  const { signature, hash } = operationSignature(document, name);
  return {
    hash,
    signature,
    name,
    type: operation.operation,
    coordinates: operationCoordinates(schema, document, operation),
  };
}
