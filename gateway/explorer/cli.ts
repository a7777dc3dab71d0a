// `node --import tsx gateway/explorer/cli.ts [--force]`: builds the development explorer's
// bundle (build.ts) unless it is current; run by the root package's postinstall. A
// production install (no devDependencies) has nothing to build and says so.
import { buildExplorer, EXPLORER_DIR, explorerInstalled } from './build.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write('usage: node --import tsx gateway/explorer/cli.ts [--force]\n');
  process.exit(0);
}
const unknown = args.find((arg) => arg !== '--force');
if (unknown) {
  process.stderr.write(`unknown flag ${unknown}\nusage: node --import tsx gateway/explorer/cli.ts [--force]\n`);
  process.exit(2);
}
if (!explorerInstalled()) {
  process.stdout.write('explorer: skipped (GraphiQL and esbuild are not installed: production install)\n');
} else {
  const started = Date.now();
  await buildExplorer({ force: args.includes('--force') });
  process.stdout.write(`explorer bundle in ${EXPLORER_DIR} (${Date.now() - started} ms)\n`);
}
