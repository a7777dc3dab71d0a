// `pnpm gateway [--supergraph FILE] [--port N]`: the gateway in the foreground.
import { exitWith } from '@trellis/config';
import { createLogger } from '@trellis/telemetry';
import { gatewayConfig } from './env.ts';
import { startGateway } from './index.ts';

let config: ReturnType<typeof gatewayConfig>;
try {
  config = gatewayConfig();
} catch (error) {
  exitWith(`gateway: ${(error as Error).message}`);
}
const logger = createLogger({ service: 'gateway', level: config.logLevel });

let running: Awaited<ReturnType<typeof startGateway>>;
try {
  running = await startGateway(config, logger);
} catch (error) {
  exitWith(`gateway: ${(error as Error).message.split('\n')[0]}`);
}
logger.info({ url: `${running.url}/graphql`, supergraph: config.supergraphPath }, 'listening');

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining');
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  running.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
