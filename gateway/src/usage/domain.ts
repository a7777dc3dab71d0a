// The usage store's database domain (its Postgres role, tables prefix and migrations ledger),
// alone so tooling that renders deployment files (ops/, k8s/) reads it without loading the store.
export const USAGE_DOMAIN = 'gateway_usage';
