// Settings of the orders subgraph beyond the kit's, one loader per concern: where catalogue
// prices come from (API), where order confirmations go (worker), the job queues' retry
// policies (wherever the queues are defined) and invoice links (API). The only place orders
// reads process.env; each is parsed on first use, so tools that import the subgraph
// definition need none of it. The field builders are the kit's (@trellis/subgraph-kit/env).
import { loadEnv, parseEnv, z } from '@trellis/config';
import {
  lazily,
  queueRetryFields,
  secretField,
  signingSecretField,
  subgraphClientFields,
  webhookFields,
} from '@trellis/subgraph-kit/env';

/** Development-only default; production requires INVOICE_LINK_SECRET. */
export const DEV_INVOICE_LINK_SECRET = 'trellis-dev-invoice-link-secret-not-for-production';

export const DEV_WEBHOOK = {
  url: 'http://127.0.0.1:4199/webhooks/orders',
  secret: 'trellis-dev-webhook-secret',
} as const;

/**
 * The products subgraph, where placeOrder reads current prices: CATALOGUE_URL,
 * CATALOGUE_TIMEOUT_MS (1500), and SUBGRAPH_SIGNING_SECRET for the identity it signs.
 */
export function catalogueEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv(
    {
      ...subgraphClientFields('CATALOGUE', { url: 'http://127.0.0.1:4002/graphql', timeoutMs: 1500 }),
      SUBGRAPH_SIGNING_SECRET: signingSecretField(source.NODE_ENV === 'production'),
    },
    source,
  );
}
/** The process's catalogue settings, parsed once. */
export const catalogueSettings = lazily(() => catalogueEnv());

/** Order confirmations are POSTed to NOTIFY_WEBHOOK_URL (worker); NOTIFY_* as the kit's webhookFields. */
export function notifyEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv(webhookFields('NOTIFY', { production: source.NODE_ENV === 'production', dev: DEV_WEBHOOK }), source);
}
/** The process's webhook settings, parsed once. */
export const notifySettings = lazily(() => notifyEnv());

/** Retry policies of the queues (NOTIFY_*, INVOICE_* as the kit's queueRetryFields): all defaulted. */
export function retryEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv(
    {
      ...queueRetryFields('NOTIFY', { baseDelayMs: 2000, maxDelayMs: 600_000, attempts: 8, expireInSeconds: 120 }),
      ...queueRetryFields('INVOICE', { baseDelayMs: 2000, maxDelayMs: 120_000, attempts: 5, expireInSeconds: 120 }),
    },
    source,
  );
}

/** Invoice download links (the API only: the worker never signs links). */
export function invoiceLinkEnv(source: Record<string, string | undefined> = process.env) {
  return loadEnv(
    {
      /** Signs invoice download links (HMAC-SHA256). Required in production, ≥ 32 characters. */
      INVOICE_LINK_SECRET: secretField(source.NODE_ENV === 'production', DEV_INVOICE_LINK_SECRET),
      /** How long an issued invoice link stays valid. */
      INVOICE_LINK_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
      /**
       * Public origin that routes `/invoices` to the orders service (an ingress rule in
       * production); Invoice.url is this plus Invoice.downloadPath.
       */
      INVOICE_BASE_URL: z.url().default('http://localhost:4005'),
    },
    source,
  );
}
export type InvoiceLinkEnv = ReturnType<typeof invoiceLinkEnv>;

/** The process's invoice link settings, parsed once. */
export const invoiceLinks = lazily(() => invoiceLinkEnv());
