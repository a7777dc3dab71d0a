// Usage reporting's front door for tooling (schema checks, exports): the tables, the
// migration and the operation analysis, without opening any connection.
export { describeOperation, type OperationShape, operationCoordinates, operationSignature } from './operation.ts';
export { DEFAULT_USAGE, type UsageConfig } from './recorder.ts';
export * as usageTables from './schema.ts';
export { LATENCY_BOUNDS_MS } from './schema.ts';
export { createUsageStore, migrateUsage, USAGE_DOMAIN } from './store.ts';
