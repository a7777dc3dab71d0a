import { describeConformance } from '@trellis/testing/conformance';
import { subgraph } from '../src/service.ts';

describeConformance(subgraph, {
  schemaFile: new URL('../src/schema.graphql', import.meta.url),
  ownedEntities: ['Review'],
});
