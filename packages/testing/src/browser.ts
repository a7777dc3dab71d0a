// Browser tests: Debian's Chromium (`/usr/bin/chromium`, installed with apt — `.ci/run` does
// it; no browser is downloaded) driven by playwright-core. One call runs one flow in a fresh
// browser (fresh profile), bounded in time, optionally with every non-loopback request
// blocked (what "works offline" means), and leaves a screenshot of the page as it ended —
// passed or failed — under `.run/browser/<name>.png` for people to look at.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, no sandbox (root in CI), and nothing Chromium would fetch for itself. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/**
 * Blocks every non-loopback request in the browser itself: names resolve to nothing and
 * everything not on a loopback host goes to a closed proxy port. (Playwright's request
 * routing would do it too, but with routing on Playwright answers CORS preflights itself,
 * allowing everything — a CORS test would test nothing.)
 */
const LOOPBACK_ONLY_ARGS = [
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE *.localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>;localhost;*.localhost;127.0.0.1;[::1]',
];

/** Where screenshots go (relative to the working directory: the repository root under vitest). */
export const SCREENSHOT_DIR = join('.run', 'browser');

const LOOPBACK_HOSTS = /^(localhost|.+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** Whether `url` points at this machine (loopback), or is local to the page (data:, blob:, about:). */
export function isLoopbackUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.protocol === 'about:') return true;
  return LOOPBACK_HOSTS.test(parsed.hostname);
}

export interface BrowserFlowOptions {
  /** Block every request to a non-loopback host (recorded in `blocked`). @default true */
  loopbackOnly?: boolean;
  /** The whole flow (launch to close) must finish within this. @default 30_000 */
  timeoutMs?: number;
  /** Default timeout of each Playwright action and wait. @default 10_000 */
  actionTimeoutMs?: number;
}

export interface BrowserFlow {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Non-loopback URLs the page tried to load (they failed). */
  blocked: string[];
  /** Console errors and uncaught page errors, for assertions and failure messages. */
  errors: string[];
}

/** Throws a message saying how to install Chromium when it is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run installs it)`);
}

/**
 * Runs `flow` in a fresh headless Chromium and returns its result. The page's screenshot is
 * saved as `.run/browser/<name>.png` whatever the outcome; the browser is always closed; a
 * flow that runs past `timeoutMs` fails with a message naming it.
 */
export async function withBrowser<T>(
  name: string,
  flow: (session: BrowserFlow) => Promise<T>,
  options: BrowserFlowOptions = {},
): Promise<T> {
  requireChromium();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = Date.now();
  const loopbackOnly = options.loopbackOnly ?? true;
  // A fresh profile per launch (Playwright creates a temporary --user-data-dir and deletes it).
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: [...CHROMIUM_ARGS, ...(loopbackOnly ? LOOPBACK_ONLY_ARGS : [])],
    timeout: timeoutMs,
  });
  let timer: NodeJS.Timeout | undefined;
  let page: Page | undefined;
  try {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const blocked: string[] = [];
    context.on('requestfailed', (request) => {
      if (!isLoopbackUrl(request.url())) blocked.push(request.url());
    });
    page = await context.newPage();
    page.setDefaultTimeout(options.actionTimeoutMs ?? 10_000);
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    const session: BrowserFlow = { browser, context, page, blocked, errors };
    const remaining = Math.max(1, timeoutMs - (Date.now() - started));
    return await Promise.race([
      flow(session),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`browser flow "${name}" took longer than ${timeoutMs} ms`)),
          remaining,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (page && !page.isClosed()) {
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      await page
        .screenshot({ path: join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`), timeout: 5000 })
        .catch(() => {});
    }
    await browser.close();
  }
}

export interface PageServer {
  /** `http://<host>:<port>` */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves fixed pages (path → HTML) on a loopback address: a browser app on its own origin
 * for cross-origin tests. `host` picks the origin's host (`localhost` and `127.0.0.1` are two
 * origins on one machine). `pages` is read on every request: fill it in later if a page
 * must name something started after the server.
 */
export async function servePages(pages: Record<string, string>, host = '127.0.0.1'): Promise<PageServer> {
  return listen((req, res) => {
    const page = pages[(req.url ?? '/').split('?')[0] ?? '/'];
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  }, host);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serves a built browser app (a folder such as Vite's dist/) on a loopback origin, as a
 * static host would: `/` is index.html, other paths are files under `dir` (nothing outside it).
 */
export async function serveDirectory(dir: string, host = '127.0.0.1'): Promise<PageServer> {
  const root = resolve(dir);
  return listen(async (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
    const body = file.startsWith(`${root}${sep}`) ? await readFile(file).catch(() => null) : null;
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  }, host);
}

async function listen(handler: RequestListener, host: string): Promise<PageServer> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host === 'localhost' ? '127.0.0.1' : host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
