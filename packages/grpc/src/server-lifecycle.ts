/** Binding and stopping a grpc-js server as promises. */
import { type Server, ServerCredentials } from '@grpc/grpc-js';

/** Binds host:port (port 0: any free port) and resolves with the bound port. */
export function bindServer(server: Server, host: string, port: number): Promise<number> {
  const target = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(target, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/**
 * Stops accepting calls and waits for those in flight; after `graceMs` cancels
 * what is left. Resolves true when everything finished in time.
 */
export function shutdownServer(server: Server, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve(false);
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Calls `stop` on the first SIGTERM or SIGINT and exits 0 when it resolves (1 if it
 * fails); a second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, log: { info(msg: string): void; error(obj: object, msg: string): void }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.info(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
