// `pnpm dev` runs this: the development webhook receiver for order confirmations. First
// deliveries are appended to .data/webhook-sink/deliveries.jsonl and listed at
// GET http://127.0.0.1:4199/deliveries; a repeated Idempotency-Key is dropped.
// The arguments are read before the sink's modules load, so `--help` answers at once.
import { join } from 'node:path';
import { parseCommand } from '@trellis/config/cli';

parseCommand({
  command: 'node --import tsx tools/src/webhook-sink.ts',
  usage: '',
  help: `The development webhook receiver (pnpm dev starts it): checks each order confirmation's
signature, drops repeated Idempotency-Keys, records first deliveries. WEBHOOK_SINK_PORT (4199),
WEBHOOK_SINK_HOST, NOTIFY_WEBHOOK_SECRET. Takes no arguments.`,
  options: {},
});

const [{ startWebhookSink }, { toolEnv }, { ROOT }] = await Promise.all([
  import('@trellis/testing/webhook-sink'),
  import('./env.ts'),
  import('./workspace.ts'),
]);
const sink = await startWebhookSink({
  secret: toolEnv.NOTIFY_WEBHOOK_SECRET,
  port: toolEnv.WEBHOOK_SINK_PORT,
  host: toolEnv.WEBHOOK_SINK_HOST,
  file: join(ROOT, '.data', 'webhook-sink', 'deliveries.jsonl'),
});
process.stdout.write(`webhook sink on ${sink.url}; deliveries at http://127.0.0.1:${sink.port}/deliveries\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void sink.close().then(() => process.exit(0)));
}
