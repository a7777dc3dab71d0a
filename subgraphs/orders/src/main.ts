import { runSubgraph } from '@trellis/subgraph-kit/main';
import { invoiceLinks } from './env.ts';
import { subgraph } from './service.ts';

// Invoice link settings are checked at start: a bad value stops the service with one line.
invoiceLinks();
await runSubgraph(subgraph);
