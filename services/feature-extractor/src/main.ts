/** Entry point: `node --import tsx services/feature-extractor/src/main.ts`. */
import { ConfigError } from '@ser/config';
import { stopOnSignals } from '@ser/grpc';
import { createLogger } from '@ser/observability';
import { loadExtractorConfig } from './config.js';
import { startExtractorServer } from './server.js';

try {
  const config = loadExtractorConfig();
  const logger = createLogger('feature-extractor', { level: config.logLevel });
  try {
    const server = await startExtractorServer(config, { logger });
    stopOnSignals(server.shutdown, logger);
  } catch (err) {
    logger.fatal({ err }, `feature extractor refuses to start: ${(err as Error).message}`);
    process.exit(1);
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
