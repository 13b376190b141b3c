/**
 * The standard grpc.health.v1.Health service (Check, List, Watch), so load balancers,
 * Kubernetes (grpc probes) and grpc_health_probe can ask each service how it is.
 * "" stands for the whole server.
 */
import { type Server, type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
  HealthService,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from './gen/grpc/health/v1/health.js';

export { ServingStatus };

type Watcher = ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;

export class HealthImplementation {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  constructor(initial: Record<string, ServingStatus> = {}) {
    for (const [service, s] of Object.entries(initial)) this.statuses.set(service, s);
  }

  setStatus(service: string, servingStatus: ServingStatus): void {
    if (this.statuses.get(service) === servingStatus) return;
    this.statuses.set(service, servingStatus);
    for (const watcher of this.watchers.get(service) ?? []) watcher.write({ status: servingStatus });
  }

  /** Sets every known service (e.g. NOT_SERVING when shutting down). */
  setAll(servingStatus: ServingStatus): void {
    for (const service of this.statuses.keys()) this.setStatus(service, servingStatus);
  }

  getStatus(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Ends every Watch stream; a server's tryShutdown waits for open streams otherwise. */
  endWatches(): void {
    for (const set of this.watchers.values()) for (const watcher of set) watcher.end();
    this.watchers.clear();
  }

  addTo(server: Server): void {
    server.addService(HealthService, this.implementation);
  }

  readonly implementation: HealthServer = {
    check: (call, callback) => {
      const s = this.statuses.get(call.request.service);
      if (s === undefined) callback({ code: status.NOT_FOUND, details: `unknown service '${call.request.service}'` });
      else callback(null, { status: s });
    },
    list: (_call, callback) => {
      callback(null, { statuses: Object.fromEntries([...this.statuses].map(([service, s]) => [service, { status: s }])) });
    },
    watch: (call) => {
      const service = call.request.service;
      const set = this.watchers.get(service) ?? new Set<Watcher>();
      this.watchers.set(service, set);
      set.add(call);
      call.on('cancelled', () => set.delete(call));
      call.write({ status: this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN });
    },
  };
}
