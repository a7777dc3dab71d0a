// The internal surface of a service — `/metrics`, the gateway's `/admin/*` — kept off the
// public port where the service is deployed: with ADMIN_PORT set it gets a listener of its
// own, which no ingress routes and only Prometheus (and operators inside the cluster) may
// reach (docs/production.md). Without it (`pnpm dev`, tests: one loopback port per service)
// the routes join the public ones, as before.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@trellis/errors';
import type { Logger } from '@trellis/telemetry';
import { createBoundedServer, DEFAULT_CONNECTION_LIMITS } from './connections.ts';
import { listen, notFound, type Route, type RunningServer, requestError } from './index.ts';

export interface InternalSurface {
  /** The internal routes the public server serves too: all of them without an admin port, none with one. */
  publicRoutes: Record<string, Route>;
  /** Binds the admin listener (when there is an admin port); a port in use is a one-line error. */
  listen(host: string): Promise<RunningServer | undefined>;
  /** The same, beside the running public server, which is closed when the admin port cannot be bound. */
  listenBeside(running: RunningServer, host: string): Promise<RunningServer | undefined>;
}

/**
 * Splits a service's internal routes off its public port. `adminPort` must differ from the
 * public `port` (0, an ephemeral port, is allowed for both).
 */
export function internalSurface(
  routes: Record<string, Route>,
  options: { adminPort?: number | undefined; port: number; logger: Logger },
): InternalSurface {
  const { adminPort, port, logger } = options;
  if (adminPort === undefined)
    return { publicRoutes: routes, listen: async () => undefined, listenBeside: async () => undefined };
  if (adminPort !== 0 && adminPort === port) throw new Error(`ADMIN_PORT (${adminPort}) must differ from PORT`);
  const surface: InternalSurface = {
    publicRoutes: {},
    async listenBeside(running, host) {
      try {
        return await surface.listen(host);
      } catch (error) {
        await running.close(0);
        throw error;
      }
    },
    async listen(host) {
      const server = createBoundedServer(
        DEFAULT_CONNECTION_LIMITS,
        routeRequests(routes, logger, 'internal request failed'),
      );
      try {
        return await listen(server, adminPort, host);
      } catch (error) {
        throw new Error((error as Error).message.replace('(set PORT', '(set ADMIN_PORT'));
      }
    },
  };
  return surface;
}

/**
 * A request handler that serves `routes` by exact path (404 for any other); a route that
 * throws is logged with `failure` and answered 500 (typed). The admin listener and the
 * workers' health and metrics server are this.
 */
export function routeRequests(
  routes: Record<string, Route>,
  logger: Logger,
  failure = 'request failed',
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (!route) return notFound(req, res);
    Promise.resolve(route(req, res)).catch((error: unknown) => {
      logger.error({ err: error, path }, failure);
      if (!res.headersSent) requestError(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.destroy();
    });
  };
}
