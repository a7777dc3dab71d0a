// Bundles the development explorer (app.tsx: GraphiQL with React and Monaco, all from the
// npm registry) and Monaco's workers into gateway/dist/explorer with esbuild, so the page
// the gateway serves loads nothing from another host. Runs at `pnpm install` (the gateway's
// postinstall) and, in development, when the gateway starts with a missing or stale bundle
// (a stamp of the sources and the installed versions); `node --import tsx
// gateway/explorer/cli.ts --force` rebuilds it. Development only: esbuild and GraphiQL are
// devDependencies, the production image has neither (and serves no explorer).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const EXPLORER_DIR = join(here, '..', 'dist', 'explorer');

/** Resolves `specifier` as the package `from` would see it (pnpm keeps transitive dependencies private). */
function resolveFrom(from: string, specifier: string): string {
  const base = dirname(require.resolve(`${from}/package.json`));
  return createRequire(join(base, 'package.json')).resolve(specifier);
}

function inputsStamp(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(here, 'app.tsx')));
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const name of ['graphiql', '@graphiql/toolkit', 'react', 'react-dom', 'monaco-editor', 'esbuild'])
    hash.update(`${name}@${JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version}`);
  return hash.digest('hex');
}

/** Builds the bundle unless an identical one is there; resolves to the output folder. */
export async function buildExplorer({ force = false }: { force?: boolean } = {}): Promise<string> {
  const stampFile = join(EXPLORER_DIR, 'stamp');
  const stamp = inputsStamp();
  if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return EXPLORER_DIR;
  const { build } = await import('esbuild');
  const graphqlReact = dirname(resolveFrom('graphiql', '@graphiql/react/package.json'));
  const monacoGraphql = createRequire(join(graphqlReact, 'package.json')).resolve(
    'monaco-graphql/esm/graphql.worker.js',
  );
  await build({
    entryPoints: {
      explorer: join(here, 'app.tsx'),
      'editor.worker': require.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
      'json.worker': require.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
      'graphql.worker': monacoGraphql,
    },
    outdir: EXPLORER_DIR,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    minify: true,
    // Monaco's codicon font and any image go inline: one CSS file, no other requests.
    loader: { '.ttf': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  writeFileSync(stampFile, stamp);
  return EXPLORER_DIR;
}

/** Whether the explorer's devDependencies are installed (not in a `--prod` install). */
export function explorerInstalled(): boolean {
  try {
    require.resolve('graphiql/package.json');
    require.resolve('esbuild');
    return true;
  } catch {
    return false;
  }
}
