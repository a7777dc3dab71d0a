// Enforces federation's @authenticated and @requiresScopes at the gateway. Stock
// @apollo/gateway refuses supergraphs that use these SECURITY features, so the gateway reads
// the requirements from the supergraph, hands the query planner a copy without them, and
// rejects — before planning any subgraph fetch — an operation that selects a field or type
// the viewer may not see (401 UNAUTHENTICATED or 403 FORBIDDEN, naming the coordinates).
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode, trellisError } from '@trellis/errors';
import type { Viewer } from '@trellis/identity';
import {
  type ASTNode,
  type DirectiveNode,
  getNamedType,
  Kind,
  parse,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';

export interface SecurityRequirements {
  /** Coordinates (`Type` or `Type.field`) that need a signed-in viewer. */
  authenticated: Set<string>;
  /** Coordinates that need scopes: any one inner list, all of its scopes. */
  scopes: Map<string, string[][]>;
}

const SECURITY_SPECS = ['https://specs.apollo.dev/authenticated/', 'https://specs.apollo.dev/requiresScopes/'];

function stringArg(node: DirectiveNode, name: string): string | undefined {
  const arg = node.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

function scopesArg(node: DirectiveNode): string[][] {
  const arg = node.arguments?.find((a) => a.name.value === 'scopes');
  if (arg?.value.kind !== Kind.LIST) return [];
  return arg.value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : [],
  );
}

/**
 * Splits a supergraph into its security requirements and an SDL without the SECURITY
 * features (links, directive definitions, their scalar, and every application).
 */
export function extractSecurity(supergraphSdl: string): { sdl: string; requirements: SecurityRequirements } {
  const document = parse(supergraphSdl);
  const requirements: SecurityRequirements = { authenticated: new Set(), scopes: new Map() };
  const names = { authenticated: 'authenticated', requiresScopes: 'requiresScopes' };
  let found = false;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      const url = directive.name.value === 'link' ? stringArg(directive, 'url') : undefined;
      if (!url || !SECURITY_SPECS.some((spec) => url.startsWith(spec))) continue;
      found = true;
      const alias = stringArg(directive, 'as');
      if (url.includes('/authenticated/') && alias) names.authenticated = alias;
      if (url.includes('/requiresScopes/') && alias) names.requiresScopes = alias;
    }
  }
  if (!found) return { sdl: supergraphSdl, requirements };

  const record = (coordinate: string, directives: readonly DirectiveNode[] | undefined) => {
    for (const directive of directives ?? []) {
      if (directive.name.value === names.authenticated) requirements.authenticated.add(coordinate);
      if (directive.name.value === names.requiresScopes) {
        requirements.scopes.set(coordinate, [...(requirements.scopes.get(coordinate) ?? []), ...scopesArg(directive)]);
      }
    }
  };
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const typeName = definition.name.value;
    record(typeName, definition.directives);
    if ('fields' in definition) {
      for (const field of definition.fields ?? []) record(`${typeName}.${field.name.value}`, field.directives);
    }
  }
  const securityDirective = (name: string) => name === names.authenticated || name === names.requiresScopes;
  const stripped = visit(document, {
    Directive(node) {
      if (securityDirective(node.name.value)) return null;
      const url = node.name.value === 'link' ? stringArg(node, 'url') : undefined;
      if (url && SECURITY_SPECS.some((spec) => url.startsWith(spec))) return null;
      return undefined;
    },
    DirectiveDefinition(node) {
      return securityDirective(node.name.value) ? null : undefined;
    },
    ScalarTypeDefinition(node) {
      return node.name.value === `${names.requiresScopes}__Scope` ? null : undefined;
    },
  });
  return { sdl: print(stripped), requirements };
}

function allowed(
  viewer: Viewer,
  coordinate: string,
  requirements: SecurityRequirements,
): 'ok' | 'unauthenticated' | 'forbidden' {
  const needsAuth = requirements.authenticated.has(coordinate);
  const scopes = requirements.scopes.get(coordinate);
  if ((needsAuth || scopes) && viewer.userId === null) return 'unauthenticated';
  if (scopes && !scopes.some((all) => all.every((scope) => viewer.scopes.includes(scope)))) return 'forbidden';
  return 'ok';
}

export interface AuthorizationContext {
  viewer: Viewer;
}

/** Rejects operations selecting protected coordinates the viewer may not see. */
export function createAuthorizationPlugin(
  requirements: () => SecurityRequirements,
): ApolloServerPlugin<AuthorizationContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, schema, contextValue }) {
          const current = requirements();
          if (current.authenticated.size === 0 && current.scopes.size === 0) return;
          const missingAuth = new Set<string>();
          const missingScopes = new Set<string>();
          const check = (coordinate: string) => {
            const verdict = allowed(contextValue.viewer, coordinate, current);
            if (verdict === 'unauthenticated') missingAuth.add(coordinate);
            if (verdict === 'forbidden') missingScopes.add(coordinate);
          };
          const typeInfo = new TypeInfo(schema);
          visit(
            document,
            visitWithTypeInfo(typeInfo, {
              OperationDefinition(node: ASTNode) {
                return node === operation ? undefined : false;
              },
              Field(node) {
                const parent = typeInfo.getParentType();
                if (!parent) return;
                check(`${parent.name}.${node.name.value}`);
                const type = typeInfo.getType();
                if (type) check(getNamedType(type).name);
              },
            }),
          );
          if (missingAuth.size > 0) {
            throw trellisError(
              ErrorCode.UNAUTHENTICATED,
              `Authentication required for ${[...missingAuth].join(', ')}`,
              {
                http: { status: 401 },
              },
            );
          }
          if (missingScopes.size > 0) {
            const needed = [...missingScopes].map(
              (c) =>
                `${c} (${current.scopes
                  .get(c)
                  ?.map((s) => s.join(' + '))
                  .join(' or ')})`,
            );
            throw trellisError(ErrorCode.FORBIDDEN, `Missing scopes for ${needed.join(', ')}`, {
              http: { status: 403 },
            });
          }
        },
      };
    },
  };
}
