// Build-time settings (Vite `import.meta.env`). One build per environment: the gateway URL
// is baked in, and a production build sends persisted document ids only.

/** The gateway endpoint, on another origin than the storefront. */
export const GATEWAY_URL: string = import.meta.env.VITE_GATEWAY_URL || 'http://localhost:4000/graphql';

/** Production builds send the manifest id of each operation instead of its text. */
export const PERSISTED_ONLY: boolean = import.meta.env.PROD;

/** How the gateway tells this client from others (Apollo's client-identity headers). */
export const CLIENT_NAME = 'trellis-storefront';
export const CLIENT_VERSION: string = __STOREFRONT_VERSION__;

/** Items per catalogue page. */
export const PAGE_SIZE = 12;
