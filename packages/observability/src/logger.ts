/** JSON logs (pino), each line carrying the service name and the current correlation id. */
import { type Logger, type LoggerOptions, pino } from 'pino';
import { currentCorrelationId } from './correlation.js';

export type { Logger } from 'pino';

export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
    ...options,
  });
}
