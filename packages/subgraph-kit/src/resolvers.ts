// What resolvers share: ids, the viewer checks, an entity reference loaded by id through a
// per-request DataLoader, and the admin-only job-queue statistics field.
import { forbidden, unauthenticated } from '@trellis/errors';
import type { Viewer } from '@trellis/identity';
import { type Jobs, queueStats } from '@trellis/jobs';

/** Database ids are positive bigints exposed as ID strings; anything else cannot exist. */
export function parseId(id: unknown): number | null {
  const text = String(id);
  if (!/^[1-9]\d{0,14}$/.test(text)) return null;
  return Number(text);
}

/** The signed-in user's id, or UNAUTHENTICATED. */
export function requireUser(viewer: Viewer): number {
  const id = viewer.userId === null ? null : parseId(viewer.userId);
  if (id === null) throw unauthenticated();
  return id;
}

/** FORBIDDEN unless the viewer holds `scope` (defence in depth behind @requiresScopes). */
export function requireScope(viewer: Viewer, scope: string): void {
  if (viewer.userId === null) throw unauthenticated();
  if (!viewer.scopes.includes(scope)) throw forbidden(`Requires the "${scope}" scope`);
}

/**
 * `__resolveReference` of an entity the subgraph owns: the reference's id through the loader
 * `pick` chooses (batched per request); an id that cannot exist is null without SQL.
 * `__resolveReference: referenceById((loaders) => loaders.userById)`.
 */
export function referenceById<TLoaders, TRow>(
  pick: (loaders: TLoaders) => { load(id: number): Promise<TRow> },
): (reference: { id: string | number }, context: { loaders: TLoaders }) => Promise<TRow> | null {
  return (reference, { loaders }) => {
    const id = parseId(reference.id);
    return id === null ? null : pick(loaders).load(id);
  };
}

/** A job queue's statistics as the shared `JobQueueStats` type shows them. */
export type JobQueueStats = Omit<Awaited<ReturnType<typeof queueStats>>[number], 'completed'>;

/**
 * The `<domain>JobQueues` query field: each of `jobs`' queues with backlog, age, failures and
 * dead letters, for the admin scope only (checked here too, behind @requiresScopes).
 */
export function jobQueuesField(
  jobs: Jobs,
): (
  parent: unknown,
  args: unknown,
  context: { sql: Parameters<typeof queueStats>[0]; viewer: Viewer },
) => Promise<JobQueueStats[]> {
  return async (_parent, _args, { sql, viewer }) => {
    requireScope(viewer, 'admin');
    return (await queueStats(sql, jobs)).map(({ completed: _completed, ...stats }) => stats);
  };
}
