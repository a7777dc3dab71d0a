// Loads the supergraph from a file and reloads it when the file changes. A missing or
// invalid file at start is a one-line error; a bad edit later keeps the current schema.
// Changes are noticed however the file is replaced: written in place, renamed over (editors,
// `pnpm compose`), or swapped behind a symlink the way Kubernetes updates a mounted ConfigMap
// (`..data` → a new timestamped folder). In Kubernetes itself a new supergraph rolls the pods
// (hash-named ConfigMap, docs/scaling.md); this covers in-place updates and local development.
import { readFileSync, unwatchFile, watch, watchFile } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '@trellis/telemetry';
import { buildSchema } from 'graphql';

export class SupergraphFileError extends Error {
  override name = 'SupergraphFileError';
}

/** Reads and sanity-checks a supergraph file (it must parse and carry join__Graph). */
export function readSupergraph(path: string): string {
  let sdl: string;
  try {
    sdl = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SupergraphFileError(
      `Supergraph file ${resolve(path)} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`} (run \`pnpm compose\` or pass --supergraph FILE)`,
    );
  }
  try {
    buildSchema(sdl, { assumeValidSDL: true });
  } catch (error) {
    throw new SupergraphFileError(`Supergraph file ${resolve(path)} is not valid GraphQL: ${(error as Error).message}`);
  }
  if (!sdl.includes('join__Graph')) {
    throw new SupergraphFileError(`Supergraph file ${resolve(path)} is not a composed supergraph (no join__Graph)`);
  }
  return sdl;
}

/** How often the supergraph path's stat is polled besides the folder watch. */
const POLL_INTERVAL_MS = 2000;

/**
 * A SupergraphManager that serves the file and pushes each valid change to the gateway.
 * `prepare` turns the file's SDL into what the query planner gets (and may record what it
 * removed, e.g. security requirements).
 */
export function fileSupergraph(
  path: string,
  initialSdl: string,
  logger: Logger,
  prepare: (sdl: string) => string = (sdl) => sdl,
): SupergraphManager {
  return {
    async initialize({ update }) {
      let current = initialSdl;
      let timer: NodeJS.Timeout | undefined;
      const reload = () => {
        let next: string;
        try {
          next = readSupergraph(path);
        } catch (error) {
          logger.warn({ err: (error as Error).message }, 'supergraph change ignored');
          return;
        }
        if (next === current) return;
        try {
          update(prepare(next));
          current = next;
          logger.info({ path }, 'supergraph reloaded');
        } catch (error) {
          logger.error({ err: (error as Error).message }, 'supergraph reload failed; keeping the current one');
        }
      };
      const schedule = () => {
        clearTimeout(timer);
        timer = setTimeout(reload, 100);
      };
      // A watch on the file itself follows its inode, which a rename or a symlink swap leaves
      // behind after the first event: watch the folder instead (every entry change, `..data`
      // included), and poll the path's stat (through symlinks) for what a folder watch cannot
      // see, such as a symlinked file elsewhere or a network file system. Both only schedule
      // a re-read, which reloads when the content differs.
      const file = resolve(path);
      const watcher = watch(dirname(file), { persistent: false }, schedule);
      watcher.on('error', (error) =>
        logger.warn({ err: String(error) }, 'supergraph folder watch failed; polling only'),
      );
      watchFile(file, { persistent: false, interval: POLL_INTERVAL_MS }, schedule);
      return {
        supergraphSdl: prepare(initialSdl),
        cleanup: async () => {
          clearTimeout(timer);
          watcher.close();
          unwatchFile(file, schedule);
        },
      };
    },
  };
}
