// The development explorer (gateway/src/explorer.ts): a browser opening the endpoint gets
// GraphiQL from the gateway itself, with every non-loopback request blocked, runs a query
// typed into the IDE and sees the result, and calls as a user with an Authorization header
// set in the IDE. Production serves no explorer.
import { graphql } from '@trellis/testing';
import { type BrowserFlow, withBrowser } from '@trellis/testing/browser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraph, type TestGraph, testGatewayConfig, tokenFor } from '../../tools/src/harness.ts';
import { buildExplorer } from '../explorer/build.ts';
import { type RunningGateway, startGateway } from '../src/index.ts';

const QUERY = '{ products(first: 3) { edges { node { name } } } }';

/** What a Monaco editor shows (it renders spaces as no-break spaces). */
async function textOf(page: BrowserFlow['page'], editor: string): Promise<string> {
  return (await page.locator(`${editor} .view-lines`).first().innerText()).replace(/\u00a0/g, ' ');
}

/** Replaces the text of a Monaco editor as a person would (insertText: no auto-closed brackets). */
async function typeInto(page: BrowserFlow['page'], editor: string, text: string) {
  await page.locator(editor).first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await expect.poll(() => textOf(page, editor)).toBe(text);
}

const QUERY_EDITOR = '.graphiql-query-editor .monaco-editor';

/**
 * Opens the explorer and waits until it is idle: the default document shown and the schema
 * introspected (GraphiQL updates its editors when the schema arrives: text typed before that
 * could be disturbed on a busy machine).
 */
async function openExplorer(page: BrowserFlow['page'], url: string) {
  const introspected = page.waitForResponse((r) => r.request().postData()?.includes('IntrospectionQuery') ?? false, {
    timeout: 30_000,
  });
  const response = await page.goto(url, { timeout: 30_000 });
  await page.locator(QUERY_EDITOR).getByText('query Catalogue').waitFor();
  await introspected;
  await page.waitForLoadState('networkidle');
  return response;
}
const RESPONSE = '.graphiql-response';

/**
 * Waits until GraphiQL has taken in the typed document: the tab, named after the default
 * document's operation, turns `<untitled>` (an anonymous query). GraphiQL updates the
 * operation name it sends with a debounce; a click before that sends the old name.
 */
async function untitled(page: BrowserFlow['page']) {
  await page.locator('.graphiql-tab-button', { hasText: '<untitled>' }).waitFor();
}

describe('development explorer', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    // The bundle is built at install; a stale one is rebuilt here, outside the browser's time bound.
    await buildExplorer();
    graph = await startGraph(inject('databaseUrl'));
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('serves GraphiQL offline: a query typed in the IDE runs and shows its result', async () => {
    const expected = await graphql<{ products: { edges: { node: { name: string } }[] } }>(graph.url, QUERY);
    const names = expected.body.data?.products.edges.map((e) => e.node.name) ?? [];
    expect(names).toHaveLength(3);
    await withBrowser(
      'explorer-offline',
      async ({ page, blocked, errors }) => {
        const response = await openExplorer(page, graph.url);
        expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
        await typeInto(page, QUERY_EDITOR, QUERY);
        await untitled(page);
        await page.locator('.graphiql-execute-button').click();
        await page
          .locator(RESPONSE)
          .getByText(names[2] as string)
          .waitFor();
        expect(JSON.parse(await textOf(page, RESPONSE))).toEqual(expected.body);
        // Nothing was fetched from another host, and nothing failed to load.
        expect(blocked).toEqual([]);
        expect(errors).toEqual([]);
      },
      { timeoutMs: 90_000 },
    );
  });

  it('sends an Authorization header set in the IDE', async () => {
    const token = await tokenFor(3);
    await withBrowser(
      'explorer-authorization',
      async ({ page, errors }) => {
        await openExplorer(page, graph.url);
        await typeInto(page, QUERY_EDITOR, '{ me { id } }');
        await untitled(page);
        await page.getByRole('button', { name: 'Headers' }).click();
        await typeInto(
          page,
          '.graphiql-editor-tool .monaco-editor[data-uri$="headers.json"]',
          JSON.stringify({ Authorization: `Bearer ${token}` }),
        );
        await page.locator('.graphiql-execute-button').click();
        await page.locator(RESPONSE).getByText('"id"').waitFor();
        expect(JSON.parse(await textOf(page, RESPONSE))).toEqual({ data: { me: { id: '3' } } });
        expect(errors).toEqual([]);
      },
      { timeoutMs: 90_000 },
    );
  });

  it('answers API clients as before: a GET without text/html is a GraphQL request', async () => {
    const response = await fetch(`${graph.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('production', () => {
  let graph: TestGraph;
  let gateway: RunningGateway;
  beforeAll(async () => {
    graph = await startGraph(inject('databaseUrl'));
    gateway = await startGateway(testGatewayConfig({ supergraphPath: graph.supergraphPath, nodeEnv: 'production' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await graph?.stop();
  });

  it('serves no explorer and no explorer files', async () => {
    const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).not.toContain('text/html');
    expect(await page.text()).not.toContain('explorer');
    expect((await fetch(`${gateway.url}/explorer/explorer.js`)).status).toBe(404);
  });
});
