// The development explorer: GraphiQL served by the gateway itself to browser navigations of
// the endpoint (GET accepting text/html), from a bundle built out of the project's own
// dependencies (gateway/explorer/build.ts). Nothing comes from another host — the page's
// Content-Security-Policy allows only this origin — so it works offline and behind strict
// proxies. Replaces Apollo's landing page, which loads its Sandbox from a CDN. Production
// serves no explorer (startGateway does not call this).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Route, sendJson } from '@trellis/http';
import type { Logger } from '@trellis/telemetry';

/** Where the explorer's files are served (page-relative paths would break under /graphql/). */
export const EXPLORER_ASSETS = '/explorer';

const FILES: Record<string, string> = {
  'explorer.js': 'text/javascript; charset=utf-8',
  'explorer.css': 'text/css; charset=utf-8',
  'editor.worker.js': 'text/javascript; charset=utf-8',
  'json.worker.js': 'text/javascript; charset=utf-8',
  'graphql.worker.js': 'text/javascript; charset=utf-8',
};

/** Only this origin, for everything the page does; inline styles for the editor's layout. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en" data-assets="${EXPLORER_ASSETS}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trellis explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${EXPLORER_ASSETS}/explorer.css">
<style>html, body, #explorer { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="explorer"></div>
<script type="module" src="${EXPLORER_ASSETS}/explorer.js"></script>
</body>
</html>
`;

export interface Explorer {
  /** Answers a browser navigation of the GraphQL endpoint. */
  page: Route;
  /** The bundle's files, by path. */
  routes: Record<string, Route>;
}

/** Answer of the page and its files when the bundle cannot be had. */
function unavailable(reason: string): Route {
  return (_req, res) =>
    sendJson(res, 503, {
      errors: [
        {
          message: `The development explorer is not available (${reason}); run pnpm install. POST GraphQL requests here.`,
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        },
      ],
    });
}

/**
 * The explorer's routes. The bundle is read on the first request for it (gateways that no
 * browser opens — tests, benchmarks — never load it), and built first when it is missing or
 * stale (development machines have esbuild and GraphiQL as devDependencies). When it cannot
 * be had, the page says why instead of failing the gateway.
 */
export function createExplorer(log: Logger): Explorer {
  let loading: Promise<Map<string, Buffer> | string> | undefined;
  const load = () => {
    loading ??= (async () => {
      try {
        const { buildExplorer } = await import('../explorer/build.ts');
        const dir = await buildExplorer();
        return new Map(
          await Promise.all(Object.keys(FILES).map(async (name) => [name, await readFile(join(dir, name))] as const)),
        );
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0] ?? 'unknown error';
        log.warn({ err: reason }, 'development explorer unavailable');
        return reason;
      }
    })();
    return loading;
  };
  const routes: Record<string, Route> = {};
  for (const [name, type] of Object.entries(FILES)) {
    routes[`${EXPLORER_ASSETS}/${name}`] = async (req, res) => {
      const files = await load();
      if (typeof files === 'string') return unavailable(files)(req, res);
      const bytes = files.get(name) as Buffer;
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', 'content-length': bytes.length });
      res.end(bytes);
    };
  }
  return {
    page: async (req, res) => {
      const files = await load();
      if (typeof files === 'string') return unavailable(files)(req, res);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': CSP,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      res.end(PAGE);
    },
    routes,
  };
}
