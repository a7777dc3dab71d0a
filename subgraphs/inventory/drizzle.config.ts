import { drizzleConfig } from '@trellis/subgraph-kit/drizzle';

export default drizzleConfig('inventory');
