/** Entry point: `node --import tsx services/gateway/src/main.ts`. */
import { ConfigError } from '@ser/config';
import { stopOnSignals } from '@ser/grpc';
import { createLogger } from '@ser/observability';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';

try {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', { level: config.logLevel });
  try {
    const gateway = await startGateway(config, { logger });
    stopOnSignals(gateway.close, logger);
    logger.info({ url: gateway.url, docs: `${gateway.url}/docs` }, `gateway listening on ${gateway.url}`);
    process.stdout.write(`gateway: ${gateway.url} (API docs: ${gateway.url}/docs)\n`);
  } catch (err) {
    logger.fatal({ err }, `gateway refuses to start: ${(err as Error).message}`);
    process.exit(1);
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
