// The resource every span of a service carries: `service.name` (from the entry script unless
// OTEL_SERVICE_NAME says otherwise), `service.version` (the service's package.json version)
// and `deployment.environment.name` (NODE_ENV), then OTEL_RESOURCE_ATTRIBUTES over all of
// them — the standard variable wins, so a deployment sets the real release there, e.g.
// `OTEL_RESOURCE_ATTRIBUTES=service.version=1.4.2,deployment.environment.name=staging`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  defaultResource,
  detectResources,
  envDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { serviceNameFromScript } from './env.ts';

/** The `version` of the package.json nearest above `script` (the service's own), if any. */
export function packageVersionOf(script: string | undefined): string | undefined {
  if (!script) return undefined;
  for (let dir = dirname(script); ; dir = dirname(dir)) {
    try {
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
      return typeof version === 'string' ? version : undefined;
    } catch {
      // No package.json here: look one folder up.
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function serviceResource(options: {
  script: string | undefined;
  serviceName?: string | undefined;
  nodeEnv?: string | undefined;
}): Resource {
  const version = packageVersionOf(options.script);
  const own = resourceFromAttributes({
    'service.name': options.serviceName ?? serviceNameFromScript(options.script),
    ...(version ? { 'service.version': version } : {}),
    'deployment.environment.name': options.nodeEnv ?? 'development',
  });
  // envDetector: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; merged last, so they win.
  return defaultResource()
    .merge(own)
    .merge(detectResources({ detectors: [envDetector] }));
}
