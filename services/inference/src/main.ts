/** Entry point: `node --import tsx services/inference/src/main.ts`. */
import { ConfigError } from '@ser/config';
import { stopOnSignals } from '@ser/grpc';
import { BundleError } from '@ser/model';
import { createLogger } from '@ser/observability';
import { loadInferenceConfig } from './config.js';
import { startInferenceServer } from './server.js';

try {
  const config = loadInferenceConfig();
  const logger = createLogger('inference', { level: config.logLevel });
  try {
    const server = await startInferenceServer(config, { logger });
    stopOnSignals(server.shutdown, logger);
  } catch (err) {
    const why = err instanceof BundleError ? `the model bundle is not usable: ${err.message}` : (err as Error).message;
    logger.fatal({ err }, `inference refuses to start: ${why}`);
    process.exit(1);
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
