// The development explorer's browser side: GraphiQL (from the npm registry, bundled by
// build.mjs) talking to the gateway that served it. Everything it loads comes from that
// gateway: Monaco's workers are built next to this bundle and found under /explorer/.
// (A .tsx file: bundled by esbuild, outside the Node typecheck, which has no DOM types.)
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';

declare global {
  // Monaco asks for a worker per language (https://github.com/microsoft/monaco-editor#faq).
  var MonacoEnvironment: { getWorker(workerId: string, label: string): Worker };
}

const assets = document.documentElement.dataset.assets ?? '/explorer';
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === 'json' || label === 'graphql' ? label : 'editor';
    return new Worker(`${assets}/${name}.worker.js`, { type: 'module' });
  },
};

const endpoint = `${window.location.origin}${window.location.pathname}`;
const fetcher = createGraphiQLFetcher({
  url: endpoint,
  // The explorer names itself like any client (the gateway's `client` metric label).
  headers: { 'apollographql-client-name': 'trellis-explorer' },
});

const DEFAULT_QUERY = `# The Trellis graph, served by this gateway.
#
# To call it as a user, open "Headers" below and set
#   { "Authorization": "Bearer <token>" }
# with a token from: pnpm --silent run dev:token --user 1
query Catalogue {
  products(first: 3) {
    edges {
      node {
        id
        name
        price
      }
    }
  }
}
`;

const root = document.getElementById('explorer');
if (root) createRoot(root).render(<GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />);
