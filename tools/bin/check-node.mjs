#!/usr/bin/env node
// Refuses an unsupported Node with one line saying what to do: run before `pnpm install`
// (the root `preinstall`). pnpm's own engine check cannot catch it: a standalone pnpm judges
// `engines` by the Node it embeds, while scripts, `pnpm dev` and the tests run on the `node`
// first on PATH. Plain JavaScript without dependencies: it runs before anything is installed.
import { readFileSync } from 'node:fs';

const { engines } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const match = /^>=(\d+)\.(\d+)$/.exec(engines.node);
if (!match) {
  console.error(`check-node: package.json engines.node must be ">=MAJOR.MINOR", not ${engines.node}`);
  process.exit(1);
}
const [major, minor] = process.versions.node.split('.').map(Number);
const [wantMajor, wantMinor] = [Number(match[1]), Number(match[2])];
if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
  console.error(
    `trellis: Node ${process.version} is older than the supported ${engines.node}: run \`. ./bootstrap\` (installs Node ${wantMajor} from the npm registry into .node/ and puts it first on PATH), then run the command again`,
  );
  process.exit(1);
}
