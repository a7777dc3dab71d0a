// Where rate limits meet requests (rate-limit.ts keeps the budgets). Two points, one budget:
// - the front (before Apollo and before the response cache, which it wraps): identifies the
//   client, spends ADMISSION_POINTS from its `cost` budget and refuses a client already over
//   budget with 429 — no parse, no validation, no plan, no subgraph fetch. A cached hit is
//   served right after, so a hit costs exactly the admission point.
// - the limits plugin (limits.ts, `onEstimate`): once the operation's cost is known, before
//   the query planner, spends it from `cost` (queries) or `mutations`; over budget is a 429
//   with no fetch made.
// Every response that passed the front carries the IETF draft fields (draft-ietf-httpapi-
// ratelimit-headers): `RateLimit-Policy: "cost";q=<points>;w=<window s>, "mutations";…` and
// `RateLimit: "<policy>";r=<remaining>;t=<reset s>` for the budgets the request spent;
// a refusal adds `Retry-After` and `extensions.code: RATE_LIMITED`. Quotas are in cost points.
// A request whose admission the store failed open (Redis down or slow) is not charged its
// estimate either: one store round trip per request at most while the store is failing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode, trellisError } from '@trellis/errors';
import {
  type GraphQLFront,
  type GraphQLMetrics,
  readClientIdentity,
  requestLogFields,
  requestState,
  sendJson,
} from '@trellis/http';
import { ANONYMOUS, type Viewer } from '@trellis/identity';
import { clientAddress, type TrustProxy } from './client-address.ts';
import type { GatewayContext } from './identity.ts';
import type { ClientKey, Decision, Policy, RateLimiter } from './rate-limit.ts';

/** What every request spends on admission: all a cached hit costs. */
export const ADMISSION_POINTS = 1;

/** Per-request state between the front and the plugin (GatewayContext.rateLimit). */
export interface RateLimitSlot {
  key: ClientKey;
  /** The latest decision per budget this request spent from. */
  decisions: Map<Policy, Decision>;
}

export interface RateLimitGate {
  /** Wraps the front that answers after admission (the response cache's), if any. */
  front(inner?: GraphQLFront): GraphQLFront;
  /** The front's state for a request (the context factory puts it in the context). */
  slotOf(req: IncomingMessage): RateLimitSlot | undefined;
  /** Spends an operation's estimated cost (limits.ts onEstimate); throws RATE_LIMITED over budget. */
  spendEstimate(context: GatewayContext, cost: number, operation: string): Promise<void>;
  /** Puts the final headers on every Apollo response (and 429 on a refused estimate). */
  plugin: ApolloServerPlugin<GatewayContext>;
}

export function createRateLimitGate(options: {
  limiter: RateLimiter;
  identify: (req: IncomingMessage) => Promise<Viewer>;
  trust: TrustProxy;
  /** Refusals at admission never reach Apollo: counted here like the response cache's hits. */
  metrics: GraphQLMetrics;
  /** Client names whose anonymous requests are keyed by address and name (RateLimitConfig.byClient). @default none */
  byClient?: readonly string[];
}): RateLimitGate {
  const { limiter, identify, trust, metrics } = options;
  const byClient = new Set(options.byClient ?? []);
  const slots = requestState<RateLimitSlot>('trellis.rateLimitSlot');
  const policy = (kind: ClientKey['kind']) =>
    `"cost";q=${limiter.quota(kind, 'cost')};w=${limiter.windowS}, "mutations";q=${limiter.quota(kind, 'mutations')};w=${limiter.windowS}`;
  const policyHeader = { user: policy('user'), address: policy('address'), client: policy('client') };
  const message = (decision: Decision) =>
    `${decision.policy === 'mutations' ? 'Mutation rate limit' : 'Rate limit'} exceeded (${decision.quota} points per ${limiter.windowS} s); retry in ${decision.resetS} s`;

  /** Passes each rate-limit header of the slot's response to `set`. */
  function eachHeader(slot: RateLimitSlot, set: (name: string, value: string) => void): void {
    set('ratelimit-policy', policyHeader[slot.key.kind]);
    let state = '';
    let refused: Decision | undefined;
    for (const d of slot.decisions.values()) {
      // A decision the store could not make (failed open) has no remaining budget to report.
      if (!d.failedOpen) state += `${state ? ', ' : ''}"${d.policy}";r=${d.remaining};t=${d.resetS}`;
      if (!d.allowed) refused ??= d;
    }
    if (state) set('ratelimit', state);
    if (refused) set('retry-after', String(refused.resetS));
  }

  async function keyOf(req: IncomingMessage): Promise<ClientKey> {
    // A bad token is answered by Apollo (401); until then the request counts for its address.
    let viewer: Viewer;
    try {
      viewer = await identify(req);
    } catch {
      viewer = ANONYMOUS;
    }
    if (viewer.userId !== null) return { kind: 'user', id: viewer.userId };
    const address = clientAddress(req, trust);
    const client = byClient.size > 0 ? readClientIdentity(req).name : null;
    return client !== null && byClient.has(client)
      ? { kind: 'client', id: `${address}|${client}` }
      : { kind: 'address', id: address };
  }

  function refuse(req: IncomingMessage, res: ServerResponse, slot: RateLimitSlot, decision: Decision, started: number) {
    requestLogFields(req).errorCode = ErrorCode.RATE_LIMITED;
    metrics.record(null, ErrorCode.RATE_LIMITED, (performance.now() - started) / 1000);
    const headers: Record<string, string> = {};
    eachHeader(slot, (name, value) => {
      headers[name] = value;
    });
    sendJson(
      res,
      429,
      {
        errors: [
          { message: message(decision), extensions: { code: ErrorCode.RATE_LIMITED, retryAfter: decision.resetS } },
        ],
      },
      headers,
    );
  }

  return {
    front(inner) {
      return {
        async serve(req, res, request) {
          const started = performance.now();
          const key = await keyOf(req);
          const decision = await limiter.spend(key, ADMISSION_POINTS, 'cost');
          const slot: RateLimitSlot = { key, decisions: new Map([['cost', decision]]) };
          if (!decision.allowed) {
            refuse(req, res, slot, decision, started);
            return true;
          }
          slots.set(req, slot);
          eachHeader(slot, (name, value) => res.setHeader(name, value));
          return inner ? inner.serve(req, res, request) : false;
        },
        ...(inner?.complete ? { complete: inner.complete.bind(inner) } : {}),
      };
    },
    slotOf: (req) => slots.get(req),
    async spendEstimate(context, cost, operation) {
      const slot = context.rateLimit;
      if (!slot) return;
      const policy: Policy = operation === 'mutation' ? 'mutations' : 'cost';
      const points = Math.ceil(cost);
      // Free operations (`{ __typename }`) paid their admission point; a mutation spends at least 1.
      if (points <= 0 && policy === 'cost') return;
      // The store failed this request's admission open (a timeout, an error, the circuit):
      // the estimate is let through without a second round trip to it — at the onset of an
      // outage that round trip would be a second bounded wait in the same request.
      const failed = [...slot.decisions.values()].some((d) => d.failedOpen);
      const decision = failed
        ? limiter.failOpen(slot.key, policy)
        : await limiter.spend(slot.key, Math.max(1, points), policy);
      slot.decisions.set(policy, decision);
      if (!decision.allowed) {
        throw trellisError(ErrorCode.RATE_LIMITED, message(decision), {
          retryAfter: decision.resetS,
          http: { status: 429 },
        });
      }
    },
    plugin: {
      async requestDidStart() {
        return {
          async willSendResponse({ contextValue, response }) {
            const slot = contextValue.rateLimit;
            if (!slot) return;
            eachHeader(slot, (name, value) => response.http.headers.set(name, value));
          },
        };
      },
    },
  };
}
