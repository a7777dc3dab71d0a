// Cache tags: the one format of the tags a cached response carries and an invalidation
// drops, imported by every producer and consumer — the subgraph kit (which entities a
// response holds), the gateway (turning a subgraph's report into an entry's tags) and the
// invalidation side (which tags a write drops). `Type:id` per entity, `Type` per type held,
// `Type:*` for a type whose entities were too many to name (overflow).

/** Tag of one entity in a cached response. */
export const entityTag = (typename: string, id: string) => `${typename}:${id}`;
/** Tag every response holding any `typename` carries (purge by type). */
export const typeTag = (typename: string) => typename;
/** Tag of responses whose subgraph listed too many `typename` entities to name them all. */
export const overflowTag = (typename: string) => `${typename}:*`;

/** The type of an entity tag (`Product:1` → `Product`), or undefined for a tag of another form. */
export function typenameOfEntityTag(tag: string): string | undefined {
  const colon = tag.indexOf(':');
  return colon > 0 ? tag.slice(0, colon) : undefined;
}

/** What a subgraph response reports in `extensions.trellis`: the entities it resolved fields of. */
export interface EntityReport {
  /** `entityTag(typename, id)` of each entity whose fields were resolved. */
  entities: string[];
  /** Types with more entities than could be named. */
  overflow?: string[];
}

/**
 * Collects one response's report on the subgraph side: entities by tag, up to `maxEntities`;
 * past it a type is reported as overflowing instead.
 */
export class EntityReportBuilder {
  private readonly entities = new Set<string>();
  private readonly overflow = new Set<string>();

  constructor(private readonly maxEntities: number) {}

  add(typename: string, id: string): void {
    const tag = entityTag(typename, id);
    if (this.entities.has(tag) || this.overflow.has(typename)) return;
    if (this.entities.size >= this.maxEntities) this.overflow.add(typename);
    else this.entities.add(tag);
  }

  /** The report, or undefined when nothing was resolved. */
  report(): EntityReport | undefined {
    if (this.entities.size === 0 && this.overflow.size === 0) return undefined;
    const report: EntityReport = { entities: [...this.entities] };
    if (this.overflow.size > 0) report.overflow = [...this.overflow];
    return report;
  }
}

/**
 * Adds the tags of a subgraph's report (as received: unvalidated JSON) to `tags`: each
 * entity's tag and its type's, and for an overflowing type its type and overflow tags.
 */
export function addReportTags(report: { entities?: unknown; overflow?: unknown }, tags: Set<string>): void {
  if (Array.isArray(report.entities)) {
    for (const entity of report.entities) {
      if (typeof entity !== 'string') continue;
      tags.add(entity);
      const typename = typenameOfEntityTag(entity);
      if (typename) tags.add(typeTag(typename));
    }
  }
  if (Array.isArray(report.overflow)) {
    for (const typename of report.overflow) {
      if (typeof typename !== 'string') continue;
      tags.add(typeTag(typename));
      tags.add(overflowTag(typename));
    }
  }
}

/** A changed entity as an invalidation names it. */
export interface EntityRef {
  typename: string;
  id: string;
}

/** The tags an invalidation drops: each changed entity's and its type's overflow tag, and whole types. */
export function tagsToPurge(batch: {
  entities: readonly EntityRef[];
  types?: readonly string[] | undefined;
}): string[] {
  const tags = new Set<string>();
  for (const { typename, id } of batch.entities) {
    tags.add(entityTag(typename, id));
    tags.add(overflowTag(typename));
  }
  for (const typename of batch.types ?? []) tags.add(typeTag(typename));
  return [...tags];
}
