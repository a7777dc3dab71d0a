import { runSubgraph } from '@trellis/subgraph-kit/main';
import { subgraph } from './service.ts';

await runSubgraph(subgraph);
