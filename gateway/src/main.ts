// `pnpm gateway [--supergraph FILE] [--port N]`: the gateway in the foreground.
import { exitWith } from '@trellis/config';
import { exitOnSignals } from '@trellis/http';
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

exitOnSignals(() => running.stop(), logger);
