import { parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { completeSdl, SHARED_DEFINITIONS, subgraphSdl } from './sdl.ts';

const names = (sdl: string) =>
  parse(sdl).definitions.map((d) =>
    d.kind === 'DirectiveDefinition' ? `@${d.name.value}` : 'name' in d && d.name ? d.name.value : d.kind,
  );

describe('completeSdl', () => {
  it('adds the shared definitions a subgraph uses, and those they use, in shared order', () => {
    const sdl = 'type Query { at: DateTime @cacheControl(maxAge: 1) page: PageInfo }';
    expect(names(subgraphSdl(sdl))).toEqual(['Query', 'PageInfo', 'DateTime', '@cacheControl', 'CacheControlScope']);
  });

  it('adds nothing the subgraph does not use', () => {
    const sdl = 'type Query { n: Int }';
    expect(subgraphSdl(sdl)).toBe(sdl);
  });

  it('keeps a definition the subgraph writes itself (its own descriptions win)', () => {
    const sdl = 'type Query { e: UserError } type UserError { "mine" message: String! }';
    const complete = completeSdl(parse(sdl));
    expect(complete.definitions.map((d) => print(d)).join('\n')).toContain('"mine"');
    expect(names(subgraphSdl(sdl)).filter((n) => n === 'UserError')).toHaveLength(1);
  });

  it('is idempotent', () => {
    const once = subgraphSdl('type Query { at: DateTime, q: [JobQueueStats!]! }');
    expect(subgraphSdl(once)).toBe(once);
  });

  it('shares the tail every subgraph used to repeat', () => {
    expect(SHARED_DEFINITIONS).toEqual([
      'PageInfo',
      'OrderDirection',
      'UserError',
      'JobQueueStats',
      'DateTime',
      '@cacheControl',
      'CacheControlScope',
    ]);
  });
});
