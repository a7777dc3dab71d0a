// Query fields of the products subgraph.
import { badUserInput } from '@trellis/errors';
import { defineOrderings, paginate } from '@trellis/relay';
import { parseId } from '@trellis/subgraph-kit';
import { and, count, eq, gte, ilike, lte, type SQL } from 'drizzle-orm';
import { type ProductRow, products } from '../db/schema.ts';
import type { ProductFilter, QueryResolvers } from '../generated/graphql.ts';

const productOrdering = defineOrderings<ProductRow, 'PRICE' | 'NAME' | 'CREATED_AT'>({
  fields: {
    PRICE: { column: products.priceCents, type: 'number', value: (row) => row.priceCents },
    NAME: { column: products.name, type: 'string', value: (row) => row.name },
    CREATED_AT: { column: products.createdAt, type: 'date', value: (row) => row.createdAt },
  },
  idColumn: products.id,
  id: (row) => row.id,
  default: { field: 'CREATED_AT', direction: 'DESC' },
});

function dollarsToCents(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 10_000_000) {
    throw badUserInput(`"filter.${name}" must be between 0 and 10000000`, ['filter', name]);
  }
  return Math.round(value * 100);
}

/** Validates a ProductFilter and turns it into SQL conditions (each served by an index). */
export function productFilter(filter: ProductFilter | null | undefined): SQL | undefined {
  if (!filter) return undefined;
  const conditions: (SQL | undefined)[] = [];
  if (filter.category != null) {
    if (filter.category.length > 100) throw badUserInput('"filter.category" is too long', ['filter', 'category']);
    conditions.push(eq(products.category, filter.category));
  }
  const min = filter.priceMin != null ? dollarsToCents(filter.priceMin, 'priceMin') : undefined;
  const max = filter.priceMax != null ? dollarsToCents(filter.priceMax, 'priceMax') : undefined;
  if (min !== undefined && max !== undefined && min > max) {
    throw badUserInput('"filter.priceMin" must not exceed "filter.priceMax"', ['filter', 'priceMin']);
  }
  if (min !== undefined) conditions.push(gte(products.priceCents, min));
  if (max !== undefined) conditions.push(lte(products.priceCents, max));
  if (filter.search != null) {
    const search = filter.search.trim();
    // Below three characters a trigram index cannot help; refuse rather than scan.
    if (search.length < 3 || search.length > 100) {
      throw badUserInput('"filter.search" must be 3 to 100 characters', ['filter', 'search']);
    }
    const escaped = search.replace(/[\\%_]/g, (c) => `\\${c}`);
    conditions.push(ilike(products.name, `%${escaped}%`));
  }
  return and(...conditions);
}

export const Query: QueryResolvers = {
  products: (_parent, args, { db }) => {
    const where = productFilter(args.filter);
    return paginate(
      args,
      productOrdering(args.orderBy),
      (page) =>
        db
          .select()
          .from(products)
          .where(and(where, page.where))
          .orderBy(...page.orderBy)
          .limit(page.limit),
      async () => (await db.select({ n: count() }).from(products).where(where))[0]?.n ?? 0,
    );
  },
  product: (_parent, { id }, { loaders }) => {
    const key = parseId(id);
    return key === null ? null : loaders.productById.load(key);
  },
};
