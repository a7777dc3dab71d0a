// Settings of the orders service beyond every subgraph's (subgraph-kit's env): the only
// place the orders code reads process.env. Read once, on first use.
import { loadEnv, z } from '@trellis/config';

/** Development-only default; production requires INVOICE_LINK_SECRET. */
export const DEV_INVOICE_LINK_SECRET = 'trellis-dev-invoice-link-secret-not-for-production';

export function ordersEnv(source: Record<string, string | undefined> = process.env) {
  const production = source.NODE_ENV === 'production';
  return loadEnv(
    {
      /** Signs invoice download links (HMAC-SHA256). Required in production, ≥ 32 characters. */
      INVOICE_LINK_SECRET: production
        ? z.string().min(32, 'must be at least 32 characters')
        : z.string().min(1).default(DEV_INVOICE_LINK_SECRET),
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
export type OrdersEnv = ReturnType<typeof ordersEnv>;

let cached: OrdersEnv | undefined;
/** The process's orders settings (validated on first use; a bad value exits with one line). */
export function ordersConfig(): OrdersEnv {
  cached ??= ordersEnv();
  return cached;
}
