// Preloaded into the gateway by the load and fuzz suites only (`--expose-gc --import`, see
// graph.ts), never into a deployed process: on 127.0.0.1:MEMORY_PROBE_PORT, `GET /gc` runs
// full garbage collections and answers the V8 heap in use after them — the live heap, which
// is what retention grows, as opposed to garbage V8 has not collected yet (which RSS and
// `nodejs_heap_size_used_bytes` include).
import { createServer } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { common, loadEnv } from '@trellis/config';

const port = loadEnv({ MEMORY_PROBE_PORT: common.PORT.optional() }).MEMORY_PROBE_PORT;
const gc = (globalThis as { gc?: () => void }).gc;

if (port && gc) {
  const server = createServer((req, res) => {
    if (req.url !== '/gc') {
      res.writeHead(404).end();
      return;
    }
    // Twice: objects with finalizers or weak references need a second pass to go.
    gc();
    gc();
    const heap = getHeapStatistics();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        heapUsedBytes: heap.used_heap_size,
        heapSizeLimitBytes: heap.heap_size_limit,
        rssBytes: process.memoryUsage.rss(),
      }),
    );
  });
  server.listen(port, '127.0.0.1');
  // The probe never keeps the process alive.
  server.unref();
}
