// The SDL tail every subgraph shares (./shared.graphql: PageInfo, OrderDirection, UserError,
// JobQueueStats, DateTime, @cacheControl): a subgraph's schema.graphql holds only its domain,
// and completeSdl() adds the shared definitions it uses. Everything that reads a subgraph's
// SDL (the subgraph kit's server, composeSupergraph, codegen, the schema check, conformance)
// completes it here, so they all see the same contract. Pure: no side effects.
import { readFileSync } from 'node:fs';
import { type DefinitionNode, type DocumentNode, Kind, parse, print, visit } from 'graphql';

/** The shared definitions, by name (`@cacheControl` for the directive). */
const SHARED: ReadonlyMap<string, DefinitionNode> = new Map(
  parse(readFileSync(new URL('./shared.graphql', import.meta.url), 'utf8')).definitions.map((definition) => [
    keyOf(definition) as string,
    definition,
  ]),
);

/** Names of the shared definitions (`@cacheControl` for the directive), in the order they are added. */
export const SHARED_DEFINITIONS: readonly string[] = [...SHARED.keys()];

function keyOf(definition: DefinitionNode): string | undefined {
  if (definition.kind === Kind.DIRECTIVE_DEFINITION) return `@${definition.name.value}`;
  return 'name' in definition && definition.name ? definition.name.value : undefined;
}

/** Type and directive names a node uses (`@name` for directives). */
function usedNames(node: DocumentNode | DefinitionNode): Set<string> {
  const used = new Set<string>();
  visit(node, {
    NamedType: (named) => {
      used.add(named.name.value);
    },
    Directive: (directive) => {
      used.add(`@${directive.name.value}`);
    },
  });
  return used;
}

/**
 * The subgraph's SDL completed with every shared definition it uses and does not define
 * itself (and those they use in turn), appended in the order of shared.graphql. Idempotent:
 * an SDL that already defines them is returned unchanged.
 */
export function completeSdl(document: DocumentNode): DocumentNode {
  const defined = new Set(document.definitions.map(keyOf).filter((name): name is string => name !== undefined));
  const used = usedNames(document);
  const added = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, definition] of SHARED) {
      if (defined.has(name) || added.has(name) || !used.has(name)) continue;
      added.add(name);
      for (const inner of usedNames(definition)) used.add(inner);
      grew = true;
    }
  }
  if (added.size === 0) return document;
  const extra = SHARED_DEFINITIONS.filter((name) => added.has(name)).map((name) => SHARED.get(name) as DefinitionNode);
  return { ...document, definitions: [...document.definitions, ...extra] };
}

/** `completeSdl` on SDL text: what composition and the schema check read. */
export function subgraphSdl(sdl: string): string {
  const document = parse(sdl);
  const complete = completeSdl(document);
  return complete === document
    ? sdl
    : `${sdl.trimEnd()}\n\n${complete.definitions
        .slice(document.definitions.length)
        .map((definition) => print(definition))
        .join('\n\n')}\n`;
}

/** A subgraph's schema file, completed (`new URL('./schema.graphql', import.meta.url)` or a path). */
export function readSubgraphSdl(file: URL | string): string {
  return subgraphSdl(readFileSync(file, 'utf8'));
}
