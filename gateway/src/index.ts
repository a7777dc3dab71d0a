// The Trellis gateway: @apollo/gateway inside @apollo/server behind the shared HTTP front.
// Plugins are listed in one place (createGateway) so limits, auth, caching and telemetry
// slot in as small factories.
import type { IncomingMessage } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { maskError } from '@trellis/errors';
import { createHttpServer, listen, type RunningServer } from '@trellis/http';
import { createLogger, type Logger } from '@trellis/telemetry';
import { Registry } from 'prom-client';
import { closeDataSources, createDataSource, type TrellisDataSource } from './datasource.ts';
import type { GatewayConfig } from './env.ts';
import { fileSupergraph, readSupergraph } from './supergraph.ts';

export interface RunningGateway extends RunningServer {
  stop(): Promise<void>;
  /** Prometheus registry of this gateway (subgraph fetch metrics, see datasource.ts). */
  registry: Registry;
}

export async function startGateway(config: GatewayConfig, logger?: Logger): Promise<RunningGateway> {
  const log = logger ?? createLogger({ service: 'gateway', level: 'silent' });
  const production = config.nodeEnv === 'production';
  const sdl = readSupergraph(config.supergraphPath);

  // --- subgraph data sources (datasource.ts): one per subgraph, closed on stop -------------
  const registry = new Registry();
  const dataSources: TrellisDataSource[] = [];
  const buildService = ({ name, url }: { name: string; url?: string }) => {
    const source = createDataSource({ name, url: config.subgraphUrls[name] ?? url ?? '', registry });
    dataSources.push(source);
    return source;
  };
  // ---------------------------------------------------------------------------------------

  const gateway = new ApolloGateway({
    supergraphSdl: fileSupergraph(config.supergraphPath, sdl, log),
    buildService,
    logger: {
      debug: (message) => log.debug(String(message)),
      info: (message) => log.info(String(message)),
      warn: (message) => log.warn(String(message)),
      error: (message) => log.error(String(message)),
    },
  });

  const plugins: ApolloServerPlugin<BaseContext>[] = [
    production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
  ];

  const apollo = new ApolloServer<BaseContext>({
    gateway,
    plugins,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    // The process entry owns SIGTERM: drain HTTP first, then stop Apollo, then the pool.
    stopOnTerminationSignals: false,
    formatError: (formatted) => maskError(formatted, { exposeInternals: !production }),
  });
  // Bind the port first (a port in use fails fast), answer 503 until the supergraph is loaded.
  let ready = false;
  const server = createHttpServer<BaseContext>({
    apollo,
    logger: log,
    isReady: () => ready,
    context: async (_req: IncomingMessage) => ({}),
  });
  const running = await listen(server, config.port, config.host);
  try {
    await apollo.start();
  } catch (error) {
    await running.close(0);
    await closeDataSources(dataSources);
    throw error;
  }
  ready = true;
  return {
    ...running,
    registry,
    async stop() {
      ready = false;
      await running.close(10_000);
      await apollo.stop();
      await closeDataSources(dataSources);
    },
  };
}
