// The browser helper itself: a real Chromium, loopback pages load, anything else is blocked
// and recorded, a flow is bounded in time, and a screenshot is left either way.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackUrl, type PageServer, SCREENSHOT_DIR, servePages, withBrowser } from './browser.ts';

describe('withBrowser', () => {
  let site: PageServer;
  beforeAll(async () => {
    site = await servePages({
      '/': `<!doctype html><title>t</title><h1 id="h">loopback page</h1>
        <script src="http://cdn.example.invalid/lib.js"></script>`,
    });
  });
  afterAll(() => site?.close());

  it('loads loopback pages and blocks (and records) every other host', async () => {
    rmSync(join(SCREENSHOT_DIR, 'browser-helper.png'), { force: true });
    const { heading, blocked } = await withBrowser('browser-helper', async ({ page, blocked }) => {
      await page.goto(`${site.origin}/`);
      await page.waitForLoadState('load');
      return { heading: await page.textContent('#h'), blocked };
    });
    expect(heading).toBe('loopback page');
    expect(blocked).toEqual(['http://cdn.example.invalid/lib.js']);
    expect(existsSync(join(SCREENSHOT_DIR, 'browser-helper.png'))).toBe(true);
  });

  it('fails a flow that runs past its time bound, naming it', async () => {
    await expect(withBrowser('browser-timeout', () => new Promise(() => {}), { timeoutMs: 3000 })).rejects.toThrow(
      'browser flow "browser-timeout" took longer than 3000 ms',
    );
  });

  it('knows loopback URLs', () => {
    for (const url of [
      'http://localhost:5173/',
      'http://127.0.0.1/x',
      'http://[::1]:4000/',
      'http://app.localhost/',
      'data:text/plain,x',
    ])
      expect(isLoopbackUrl(url)).toBe(true);
    for (const url of ['https://unpkg.com/graphiql', 'http://10.0.0.1/', 'http://localhost.evil.com/', 'not a url'])
      expect(isLoopbackUrl(url)).toBe(false);
  });
});
