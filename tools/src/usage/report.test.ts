// Deprecation with evidence: every @deprecated member is found, and a coordinate's usage is
// told with operations, clients, counts and last seen — or "safe to remove" when unused.
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { coordinateUsage, coordinateUsageText, deprecatedCoordinates } from './report.ts';
import type { UsageSnapshot } from './snapshot.ts';

const schema = buildSchema(`
  enum Size { S M @deprecated(reason: "Use S.") }
  input Filter { q: String old: String @deprecated(reason: "Use q.") }
  type Product { id: ID! weight: Float @deprecated(reason: "Use shippingEstimate.") price(currency: String @deprecated): Float }
  type Query { product(id: ID!, filter: Filter): Product size: Size }
`);

const usage: UsageSnapshot = {
  format: 'trellis-usage-snapshot',
  version: 1,
  source: 'database',
  generatedAt: '2026-12-04T00:00:00.000Z',
  since: '2026-11-04T00:00:00.000Z',
  windowDays: 30,
  totalRequests: 12,
  operations: [
    {
      hash: 'h1',
      name: 'ProductPage',
      type: 'query',
      coordinates: ['Query.product', 'Product.weight'],
      clients: [
        { name: 'web', version: '2.0.0', requests: 7, errors: 1, lastSeen: '2026-12-03T10:00:00.000Z' },
        { name: 'ios', version: '5.1', requests: 3, errors: 0, lastSeen: '2026-12-01T08:00:00.000Z' },
      ],
    },
    {
      hash: 'h2',
      name: 'Size',
      type: 'query',
      coordinates: ['Query.size'],
      clients: [{ name: '', version: '', requests: 2, errors: 0, lastSeen: '2026-11-20T00:00:00.000Z' }],
    },
  ],
};

describe('deprecation report', () => {
  it('lists every deprecated field, argument, input field and enum value with its reason', () => {
    expect(deprecatedCoordinates(schema)).toEqual([
      { coordinate: 'Filter.old', reason: 'Use q.' },
      { coordinate: 'Product.price(currency:)', reason: 'No longer supported' },
      { coordinate: 'Product.weight', reason: 'Use shippingEstimate.' },
      { coordinate: 'Size.M', reason: 'Use S.' },
    ]);
  });

  it('tells who uses a coordinate, and when nobody does', () => {
    const used = coordinateUsage('Product.weight', usage, [
      { client: 'storefront', operation: 'ProductPage', coordinates: ['Product.weight'] },
    ]);
    expect(used).toMatchObject({ requests: 10, lastSeen: '2026-12-03T10:00:00.000Z' });
    const text = coordinateUsageText({ ...used, deprecationReason: 'Use shippingEstimate.' }, usage);
    expect(text).toContain('Product.weight (deprecated: Use shippingEstimate.)');
    expect(text).toContain('10 requests in the last 30 days, last seen 2026-12-03T10:00:00.000Z');
    expect(text).toContain('web 2.0.0: 7 requests, 1 errors');
    expect(text).toContain('client storefront: trusted document ProductPage');
    const unused = coordinateUsageText(coordinateUsage('Filter.old', usage, []), usage);
    expect(unused).toContain('unused in the last 30 days (12 requests recorded, database)');
    expect(unused).toContain('safe to remove');
    // Without usage data nothing is called safe.
    expect(coordinateUsageText(coordinateUsage('Filter.old', undefined, []), undefined)).not.toContain('safe');
  });
});
