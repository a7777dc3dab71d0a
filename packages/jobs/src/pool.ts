// The connection budget of a job worker's own pool: what pg-boss uses to fetch, complete and
// fail jobs, plus the queue statistics. Handlers run on their own pool (DB_POOL_MAX), so this
// does not bound how many jobs run at once. Dependency-free, so the workers' environment
// validation (JOBS_POOL_MAX) and the Kubernetes connection budget read this same value.
export const DEFAULT_JOBS_POOL_MAX = 5;
