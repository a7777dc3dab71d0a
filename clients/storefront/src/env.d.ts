// Types of Vite's build-time values used by the storefront.
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway's GraphQL endpoint. @default http://localhost:4000/graphql */
  readonly VITE_GATEWAY_URL?: string;
}

/** package.json's version, replaced at build time (vite.config.ts). */
declare const __STOREFRONT_VERSION__: string;
