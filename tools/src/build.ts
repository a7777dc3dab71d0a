// `pnpm build [--if-stale | --check] [target…]`: bundles every deployable into plain
// JavaScript, the code production runs (ops/start.sh; no tsx at run time). Targets: the
// gateway, every subgraph (its service entry and, with `trellis.worker`, its worker), and the
// tools the stack runs (`seed`, `webhook-sink`). Each target's entries are written to
// `<package>/dist/<entry>.mjs` beside `setup.mjs`, the telemetry preload, and `meta.json`
// (esbuild's metafile: the exact inputs, read by the staleness check).
//
// Workspace code (`@trellis/*`, the package's own sources) is bundled. Third-party packages
// stay external: imported by name when the package itself resolves that name to the same
// file, otherwise by a relative path to the file its importer resolved (a workspace package's
// own dependency), so Node loads exactly what tsx would have loaded. `import.meta.url` in
// bundled sources keeps meaning the source file (schema.graphql next to service.ts, the
// migrations folder, the telemetry loader hook).
//
// `--if-stale` builds only targets whose bundle is missing or older than one of its inputs
// (or the lockfile, or this file); `--check` builds nothing and exits 1 naming what is stale.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainModule, parseCommand, usageError } from '@trellis/config/cli';
import { build, type Metafile, type Plugin } from 'esbuild';
import { listSubgraphs, ROOT } from './workspace.ts';

/** Node release the bundles are compiled for (package.json `engines`). */
export const BUILD_TARGET = 'node24';

export interface BuildTarget {
  /** `gateway`, a subgraph's name, or a tool's. */
  name: string;
  /** The package folder; bundles go to `<dir>/dist`. */
  dir: string;
  /** Output name (without `.mjs`) → source file. */
  entries: Record<string, string>;
}

const TELEMETRY_SETUP = join(ROOT, 'packages', 'telemetry', 'src', 'setup.ts');

/**
 * Every deployable: the gateway, each subgraph's entries as its package declares them
 * (`trellis.main`, `trellis.worker.main`; workspace.ts), and the tools compose runs.
 */
export function buildTargets(root = ROOT): BuildTarget[] {
  return [
    {
      name: 'gateway',
      dir: join(root, 'gateway'),
      entries: { main: join(root, 'gateway', 'src', 'main.ts'), setup: TELEMETRY_SETUP },
    },
    ...listSubgraphs(root).map((s) => ({
      name: s.name,
      dir: s.dir,
      entries: {
        main: s.mainPath,
        ...(s.worker ? { worker: s.worker.mainPath } : {}),
        setup: TELEMETRY_SETUP,
      },
    })),
    {
      name: 'tools',
      dir: join(root, 'tools'),
      entries: {
        seed: join(root, 'tools', 'src', 'seed.ts'),
        'webhook-sink': join(root, 'tools', 'src', 'webhook-sink.ts'),
      },
    },
  ];
}

export const bundlePath = (target: BuildTarget, entry: string) => join(target.dir, 'dist', `${entry}.mjs`);
const metaPath = (target: BuildTarget) => join(target.dir, 'dist', 'meta.json');

/** Package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? specifier);

function externals(target: BuildTarget, outdir: string): Plugin {
  return {
    name: 'trellis-externals',
    setup(context) {
      const fromPackage = new Map<string, string | undefined>();
      context.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith('@trellis/') || args.path.startsWith('node:') || args.pluginData === 'inner') {
          return undefined;
        }
        const resolved = await context.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'inner',
        });
        if (resolved.errors.length > 0 || !resolved.path) return { errors: resolved.errors };
        if (resolved.external || !resolved.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const key = `${args.kind}:${args.path}`;
        if (!fromPackage.has(key)) {
          // Only the package's own dependencies: a name found further up (the root's
          // devDependencies) is not installed in the production image.
          const linked = existsSync(join(target.dir, 'node_modules', packageOf(args.path)));
          const own = linked
            ? await context.resolve(args.path, { kind: args.kind, resolveDir: target.dir, pluginData: 'inner' })
            : undefined;
          fromPackage.set(key, own && own.errors.length === 0 ? own.path : undefined);
        }
        if (fromPackage.get(key) === resolved.path) return { path: args.path, external: true };
        // Not a dependency of this package (or another version of it): load the importer's copy.
        let path = relative(outdir, resolved.path).split(sep).join('/');
        if (!path.startsWith('.')) path = `./${path}`;
        return { path, external: true };
      });
    },
  };
}

/** `import.meta.url` in a bundled source keeps naming that source file (relative to the bundle). */
function sourceUrls(outdir: string): Plugin {
  return {
    name: 'trellis-source-urls',
    setup(context) {
      context.onLoad({ filter: /\.[mc]?ts$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (/import\.meta\.(dirname|filename)/.test(source)) {
          return { errors: [{ text: 'use import.meta.url (import.meta.dirname/filename would name the bundle)' }] };
        }
        if (!source.includes('import.meta.url')) return { contents: source, loader: 'ts' };
        const fromBundle = relative(outdir, args.path).split(sep).join('/');
        return {
          contents: source.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
          ),
          loader: 'ts',
        };
      });
    },
  };
}

export async function buildTarget(target: BuildTarget): Promise<void> {
  const outdir = join(target.dir, 'dist');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: target.entries,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUILD_TARGET,
    // Node's conditions only (esbuild would add `module`, which Node ignores).
    conditions: ['node'],
    sourcemap: true,
    metafile: true,
    // Bundled CommonJS (workspace code calling require()) gets one in the ESM bundle.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
    plugins: [externals(target, outdir), sourceUrls(outdir)],
  });
  writeFileSync(metaPath(target), JSON.stringify(result.metafile));
}

/** Files whose change makes every bundle stale besides its own inputs. */
const GLOBAL_INPUTS = [join(ROOT, 'pnpm-lock.yaml'), fileURLToPath(import.meta.url)];

/** Why a target's bundle is stale (missing, or the first input newer than it), or undefined. */
export function staleReason(target: BuildTarget): string | undefined {
  const outputs = Object.keys(target.entries).map((entry) => bundlePath(target, entry));
  const missing = [...outputs, metaPath(target)].find((path) => !existsSync(path));
  if (missing) return `${relative(ROOT, missing)} is missing`;
  const builtAt = Math.min(...outputs.map((path) => statSync(path).mtimeMs));
  const meta = JSON.parse(readFileSync(metaPath(target), 'utf8')) as Metafile;
  const sources = Object.values(target.entries);
  const inputs = [...Object.keys(meta.inputs).map((input) => join(ROOT, input)), ...GLOBAL_INPUTS, ...sources];
  for (const input of inputs) {
    if (!existsSync(input)) return `${relative(ROOT, input)} (an input of ${target.name}) is gone`;
    if (statSync(input).mtimeMs > builtAt) return `${relative(ROOT, input)} is newer than the ${target.name} bundle`;
  }
  return undefined;
}

const SPEC = {
  command: 'pnpm build',
  usage: '[--if-stale | --check] [gateway | <subgraph> | tools | <folder> …]',
  help: `Bundles the deployables into <package>/dist (plain JavaScript for production): the gateway,
every subgraph (and its worker), and the tools the stack runs. Targets by name or folder
(subgraphs/orders); none means all.

  --if-stale  build only targets whose bundle is missing or older than an input
  --check     build nothing; exit 1 naming every stale bundle`,
  options: { 'if-stale': { type: 'boolean' }, check: { type: 'boolean' } },
  positionals: [0, Number.POSITIVE_INFINITY],
} as const;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(SPEC, argv);
  const all = buildTargets();
  // A target by name or by its folder (`subgraphs/orders`, as ops/start.sh --build passes it).
  const named = (t: BuildTarget, name: string) => t.name === name || relative(ROOT, t.dir) === name.replace(/\/$/, '');
  const unknown = positionals.filter((name) => !all.some((t) => named(t, name)));
  if (unknown.length > 0)
    usageError(SPEC, `unknown target ${unknown.join(', ')} (${all.map((t) => t.name).join(', ')})`);
  const targets = positionals.length > 0 ? all.filter((t) => positionals.some((name) => named(t, name))) : all;
  if (values.check) {
    const stale = targets.flatMap((t) => {
      const reason = staleReason(t);
      return reason ? [`${t.name}: ${reason}`] : [];
    });
    if (stale.length > 0) {
      process.stderr.write(`${SPEC.command}: stale bundles, run \`pnpm build\`: ${stale.join('; ')}\n`);
      process.exit(1);
    }
    return;
  }
  for (const target of targets) {
    const reason = staleReason(target);
    if (values['if-stale'] && !reason) continue;
    const started = performance.now();
    await buildTarget(target);
    process.stderr.write(
      `built ${target.name} (${relative(ROOT, join(target.dir, 'dist'))}) in ${Math.round(performance.now() - started)} ms${values['if-stale'] ? `: ${reason}` : ''}\n`,
    );
  }
}

if (isMainModule(import.meta.url)) await main(process.argv.slice(2));
