// Process entry (pnpm dev, compose, Kubernetes): the kit runs ./service.ts.
import { runSubgraph } from '@trellis/subgraph-kit/main';
import { subgraph } from './service.ts';

await runSubgraph(subgraph);
