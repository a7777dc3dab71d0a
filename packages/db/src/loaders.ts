// DataLoader construction shared by every subgraph: per-request loaders that batch every
// key asked for in one execution into one statement.
import DataLoader from 'dataloader';

/**
 * A DataLoader that dispatches on setImmediate rather than DataLoader's default (a
 * nextTick after the current promise jobs): graphql-js resolves a large entity batch
 * across many promise jobs, and the default then splits one logical batch into several
 * statements. setImmediate waits until all of them have queued their keys.
 */
export function batchLoader<K, V>(batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(batch, { batchScheduleFn: (dispatch) => setImmediate(dispatch), maxBatchSize: 1000 });
}

/** Loader of rows by key: `load(keys)` fetches the rows, missing keys resolve to null. */
export function loaderByKey<K, R>(load: (keys: K[]) => Promise<R[]>, keyOf: (row: R) => K): DataLoader<K, R | null> {
  return batchLoader<K, R | null>(async (keys) => {
    const rows = await load([...keys]);
    const byKey = new Map(rows.map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}
