/** JSON logs (pino), each line carrying the service name and the current correlation id. */
import { type Logger, type LoggerOptions, pino } from 'pino';
import { currentCorrelationId } from './correlation.js';

export type { Logger } from 'pino';

/**
 * Lines go to stdout asynchronously: lines logged while a write is under way leave in
 * the next one, so a busy service makes a few writes, not one system call per line
 * (which cost about 1 ms of CPU per processed file across the services). pino flushes
 * what is pending when the process exits.
 */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: process.env.LOG_LEVEL ?? 'info',
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const correlationId = currentCorrelationId();
        return correlationId ? { correlationId } : {};
      },
      ...options,
    },
    destination,
  );
}
