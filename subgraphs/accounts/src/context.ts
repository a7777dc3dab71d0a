// The resolver context of the accounts subgraph.
import type { SubgraphContext } from '@trellis/subgraph-kit';
import type { schema } from './db/schema.ts';
import type { Loaders } from './loaders.ts';

export type Context = SubgraphContext<typeof schema, Loaders>;
