// `node --import tsx gateway/explorer/cli.ts [--force]`: builds the development explorer's
// bundle (build.ts) unless it is current; run by the root package's postinstall. A
// production install (no devDependencies) has nothing to build and says so.
import { parseCommand } from '@trellis/config/cli';
import { buildExplorer, EXPLORER_DIR, explorerInstalled } from './build.ts';

const { values } = parseCommand({
  command: 'node --import tsx gateway/explorer/cli.ts',
  usage: '[--force]',
  help: `Builds the development explorer's bundle (GraphiQL) into gateway/dist/explorer/ unless it is
current; the root package's postinstall runs it.

  --force  rebuild even when the bundle is current`,
  options: { force: { type: 'boolean' } },
});
if (!explorerInstalled()) {
  process.stdout.write('explorer: skipped (GraphiQL and esbuild are not installed: production install)\n');
} else {
  const started = Date.now();
  await buildExplorer({ force: values.force === true });
  process.stdout.write(`explorer bundle in ${EXPLORER_DIR} (${Date.now() - started} ms)\n`);
}
