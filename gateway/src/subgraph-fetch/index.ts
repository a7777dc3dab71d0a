// The gateway's subgraph fetch path, by concern: data-source.ts composes the rest.
export type { SubgraphBreakerPolicy } from './breaker.ts';
export { type CacheHint, hintlessDefault, parseCacheControl } from './cache-hints.ts';
export {
  type ConcurrencyPolicy,
  createSubgraphConcurrency,
  DEFAULT_CONCURRENCY,
  SubgraphBusyError,
  type SubgraphConcurrency,
} from './concurrency.ts';
export { closeDataSources, createDataSource, type DataSourceOptions, type TrellisDataSource } from './data-source.ts';
export { type FetchOutcome, fetchFieldPaths, SubgraphFetchError } from './errors.ts';
export { operationTypeOf } from './operation.ts';
export { RetryBudget, type SubgraphRetryPolicy } from './retry.ts';
