// Exported usage files: validated on read (a clear error naming the file), narrowed to a
// shorter window than they were taken over.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readUsageFile, UsageFileError, type UsageSnapshot, withinDays, writeUsageFile } from './snapshot.ts';

const dir = mkdtempSync(join(tmpdir(), 'trellis-usage-file-'));
afterEach(() => rmSync(join(dir, 'f.json'), { force: true }));

const snapshot: UsageSnapshot = {
  format: 'trellis-usage-snapshot',
  version: 1,
  source: 'database',
  generatedAt: '2026-12-04T00:00:00.000Z',
  since: '2026-11-04T00:00:00.000Z',
  windowDays: 30,
  totalRequests: 5,
  operations: [
    {
      hash: 'a',
      name: 'Recent',
      type: 'query',
      coordinates: ['Query.a'],
      clients: [{ name: 'web', version: '1', requests: 3, errors: 0, lastSeen: '2026-12-03T10:00:00.000Z' }],
    },
    {
      hash: 'b',
      name: 'Old',
      type: 'query',
      coordinates: ['Query.b'],
      clients: [{ name: '', version: '', requests: 2, errors: 1, lastSeen: '2026-11-10T10:00:00.000Z' }],
    },
  ],
};

describe('usage files', () => {
  it('round-trips, naming the file as the source', () => {
    const path = join(dir, 'f.json');
    writeUsageFile(path, snapshot);
    expect(readUsageFile(path)).toEqual({ ...snapshot, source: path });
  });

  it('refuses unreadable and foreign files with a typed error naming the file', () => {
    const path = join(dir, 'f.json');
    expect(() => readUsageFile(path)).toThrow(UsageFileError);
    writeFileSync(path, '{not json');
    expect(() => readUsageFile(path)).toThrow(/usage file .*f\.json cannot be read/);
    writeFileSync(path, JSON.stringify({ ...snapshot, format: 'apollo-persisted-query-manifest' }));
    expect(() => readUsageFile(path)).toThrow(/is not a trellis-usage-snapshot/);
    writeFileSync(path, JSON.stringify({ ...snapshot, totalRequests: -1 }));
    expect(() => readUsageFile(path)).toThrow(UsageFileError);
  });

  it('narrows to a shorter window by last seen', () => {
    const week = withinDays(snapshot, 7, new Date('2026-12-04T00:00:00.000Z'));
    expect(week).toMatchObject({ windowDays: 7, totalRequests: 3 });
    expect(week.operations.map((op) => op.name)).toEqual(['Recent']);
    expect(withinDays(snapshot, 60)).toBe(snapshot);
  });
});
