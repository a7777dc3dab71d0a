// Entity tags: a subgraph's entity report (`extensions.trellis`, produced by subgraph-kit's
// entity-tags plugin in the format of @trellis/cache/tags) moved into the request's cache
// tags — when the response cache asked for them — and off the result.
import { addReportTags } from '@trellis/cache/tags';
import type { GatewayResponse } from './errors.ts';

export function collectEntityTags(options: { context?: unknown }, result: GatewayResponse): void {
  const extensions = result.extensions as { trellis?: { entities?: unknown; overflow?: unknown } } | undefined;
  const report = extensions?.trellis;
  if (!report) return;
  delete extensions.trellis;
  const tags = (options.context as { cacheTags?: Set<string> } | undefined)?.cacheTags;
  if (tags) addReportTags(report, tags);
}
