// Composes subgraph SDLs into a supergraph with @apollo/composition (in code: rover's
// compose hangs downloading a plugin on these machines). Used by `pnpm compose`, the
// staleness check, and test harnesses that run subgraphs on ephemeral ports.
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { completeSdl } from './sdl.ts';

export interface SubgraphSource {
  name: string;
  /** Routing URL written into the supergraph (`…/graphql`). */
  url: string;
  sdl: string;
}

export class CompositionError extends Error {
  override name = 'CompositionError';
  constructor(readonly problems: string[]) {
    super(`Composition failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Returns the supergraph SDL, or throws CompositionError listing every problem. Each SDL is
 * first completed with the shared definitions it uses (./sdl.ts).
 */
export function composeSupergraph(subgraphs: readonly SubgraphSource[]): string {
  const result = composeServices(
    subgraphs.map((subgraph) => ({
      name: subgraph.name,
      url: subgraph.url,
      typeDefs: completeSdl(parse(subgraph.sdl)),
    })),
  );
  if (result.errors || !result.supergraphSdl) {
    throw new CompositionError((result.errors ?? []).map((error) => error.message));
  }
  return `${result.supergraphSdl.trimEnd()}\n`;
}
