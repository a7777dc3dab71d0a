// Builds the gateway into one ESM file (dist/main.mjs) and its telemetry preload (dist/setup.mjs): workspace packages (and what only
// they depend on) are bundled; the gateway's own dependencies stay external, resolved from
// gateway/node_modules at run time. Running plain JavaScript skips tsx's loader and its
// esbuild helper process in production.
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const own = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

await build({
  // setup.mjs is the telemetry preload: `node --import ./dist/setup.mjs dist/main.mjs`. Its
  // OpenTelemetry packages are gateway dependencies too, so they stay external (the loader
  // hook it registers must resolve from here).
  entryPoints: {
    main: new URL('./src/main.ts', import.meta.url).pathname,
    setup: new URL('../packages/telemetry/src/setup.ts', import.meta.url).pathname,
  },
  outdir: new URL('./dist', import.meta.url).pathname,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Bundled CommonJS modules (pino, …) call require(): give the ESM bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-third-party',
      setup(context) {
        context.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('@trellis/') || args.path.startsWith('node:')) return undefined;
          const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
          return own(name) ? { path: args.path, external: true } : undefined;
        });
      },
    },
  ],
});
