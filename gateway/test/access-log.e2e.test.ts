// JSON logs: one access line per GraphQL request with stable keys, nothing for health
// probes, and secrets redacted.

import { createLogger } from '@trellis/telemetry';
import { graphql } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';
import { type RunningGateway, startGateway } from '../src/index.ts';

const lines: Record<string, unknown>[] = [];
const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };

let graph: TestGraph;
let gateway: RunningGateway;
beforeAll(async () => {
  graph = await startGraph(inject('databaseUrl'));
  gateway = await startGateway(
    testGatewayConfig({ supergraphPath: graph.supergraphPath }),
    createLogger({ service: 'gateway', destination }),
  );
});
afterAll(async () => {
  await gateway?.stop();
  await graph?.stop();
});

const access = () => lines.filter((line) => line.msg === 'request');

describe('access log', () => {
  it('writes one line per request with stable keys: request id, operation, status, duration, error code', async () => {
    lines.length = 0;
    const url = `${gateway.url}/graphql`;
    await graphql(url, 'query Catalogue { products(first: 1) { totalCount } }', {}, { 'x-request-id': 'log-1' });
    await graphql(url, 'query Big { products(first: 500) { totalCount } }', {}, { 'x-request-id': 'log-2' });
    await fetch(`${gateway.url}/health/ready`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [ok, failed, ...rest] = access();
    expect(rest).toEqual([]);
    expect(Object.keys(ok!).sort()).toEqual(
      [
        'client_name',
        'client_version',
        'duration_ms',
        'error_code',
        'level',
        'method',
        'msg',
        'operation',
        'path',
        'request_id',
        'service',
        'status',
        'time',
      ].sort(),
    );
    expect(ok).toMatchObject({
      level: 'info',
      service: 'gateway',
      request_id: 'log-1',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: 'Catalogue',
      error_code: null,
    });
    expect(typeof ok!.duration_ms).toBe('number');
    expect(new Date(String(ok!.time)).toISOString()).toBe(ok!.time);
    expect(failed).toMatchObject({ request_id: 'log-2', operation: 'Big', error_code: 'BAD_USER_INPUT' });
  });

  it('never writes tokens, passwords or emails', async () => {
    lines.length = 0;
    const logger = createLogger({ service: 'test', destination });
    logger.info(
      {
        token: 'secret-token',
        password: 'hunter2',
        email: 'ada@example.com',
        user: { email: 'x@y.z' },
        headers: { authorization: `Bearer ${await tokenFor(1)}` },
      },
      'sensitive',
    );
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/secret-token|hunter2|ada@example\.com|x@y\.z|Bearer/);
    expect(text).toContain('[redacted]');
  });
});
