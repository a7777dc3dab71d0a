// `pnpm dev` runs this: the development webhook receiver for order confirmations. First
// deliveries are appended to .data/webhook-sink/deliveries.jsonl and listed at
// GET http://127.0.0.1:4199/deliveries; a repeated Idempotency-Key is dropped.
import { join } from 'node:path';
import { startWebhookSink } from '@trellis/testing/webhook-sink';
import { toolEnv } from './env.ts';
import { ROOT } from './workspace.ts';

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
