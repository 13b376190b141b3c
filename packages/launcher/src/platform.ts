/**
 * The whole platform on this machine: migrations applied, the local object store
 * started when no S3 endpoint is configured, then the four services as processes,
 * ready when the gateway's /readyz says so.
 */
import { join } from 'node:path';
import { migrate } from '@ser/db';
import { type LocalS3, startLocalS3 } from '@ser/storage';
import { freePort, waitForPort } from './ports.js';
import { REPO_ROOT, type ServiceName, ServiceProcess } from './service-process.js';

export interface PlatformOptions {
  databaseUrl: string;
  redisUrl: string;
  /** An S3-compatible endpoint; absent: a local one is started with its data in `dataDir`. */
  s3?: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  dataDir?: string;
  /** 'default': 8080, 50051, 50052 and metrics on 9101-9104; 'free': any free ports (tests, benchmarks). */
  ports?: 'default' | 'free';
  /** Host the services listen on (default 127.0.0.1). */
  host?: string;
  queuePrefix?: string;
  /** Extra settings for every service, or for one. */
  env?: Record<string, string>;
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  onLine?: (service: ServiceName, line: string) => void;
  readyTimeoutMs?: number;
}

export interface Platform {
  gatewayUrl: string;
  services: Record<ServiceName, ServiceProcess>;
  ports: Record<'gateway' | 'inference' | 'extractor' | 'metricsInference' | 'metricsExtractor' | 'metricsWorker', number>;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  stop(): Promise<void>;
}

const DEFAULT_PORTS = {
  gateway: 8080,
  inference: 50051,
  extractor: 50052,
  metricsInference: 9101,
  metricsExtractor: 9102,
  metricsWorker: 9103,
};

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  await migrate(options.databaseUrl);

  let localS3: LocalS3 | undefined;
  let s3 = options.s3;
  if (!s3) {
    localS3 = await startLocalS3({ directory: join(options.dataDir ?? join(REPO_ROOT, '.data'), 's3') });
    s3 = { endpoint: localS3.endpoint, accessKey: localS3.accessKey, secretKey: localS3.secretKey, bucket: 'ser-audio' };
  }

  const ports = { ...DEFAULT_PORTS };
  if (options.ports === 'free') for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  const host = options.host ?? '127.0.0.1';

  const common: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_BUCKET: s3.bucket,
    INFERENCE_ADDRESS: `127.0.0.1:${ports.inference}`,
    EXTRACTOR_ADDRESS: `127.0.0.1:${ports.extractor}`,
    ...(options.queuePrefix ? { QUEUE_PREFIX: options.queuePrefix } : {}),
    ...options.env,
  };
  const perService: Record<ServiceName, Record<string, string>> = {
    inference: { INFERENCE_HOST: host, INFERENCE_PORT: String(ports.inference), METRICS_PORT: String(ports.metricsInference) },
    'feature-extractor': { EXTRACTOR_HOST: host, EXTRACTOR_PORT: String(ports.extractor), METRICS_PORT: String(ports.metricsExtractor) },
    'batch-worker': { METRICS_PORT: String(ports.metricsWorker) },
    gateway: { GATEWAY_HOST: host, GATEWAY_PORT: String(ports.gateway) },
  };
  const services = Object.fromEntries(
    (Object.keys(perService) as ServiceName[]).map((name) => [
      name,
      new ServiceProcess(name, { env: { ...common, ...perService[name], ...options.serviceEnv?.[name] }, onLine: options.onLine }),
    ]),
  ) as Record<ServiceName, ServiceProcess>;

  const stop = async () => {
    // Producers first, so nothing new arrives while the rest drain.
    await services.gateway.stop();
    await services['batch-worker'].stop();
    await services['feature-extractor'].stop();
    await services.inference.stop();
    await localS3?.close();
  };

  try {
    for (const service of Object.values(services)) service.start();
    const timeout = options.readyTimeoutMs ?? 90_000;
    await Promise.all([waitForPort(ports.inference, timeout), waitForPort(ports.extractor, timeout), waitForPort(ports.gateway, timeout)]);
    const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
    await waitForReady(gatewayUrl, timeout, services);
    return { gatewayUrl, services, ports, s3, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForReady(gatewayUrl: string, timeoutMs: number, services: Record<ServiceName, ServiceProcess>): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const dead = Object.values(services).find((s) => !s.running);
    if (dead) throw new Error(`${dead.name} exited while the platform was starting`);
    try {
      const res = await fetch(`${gatewayUrl}/readyz`);
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > until) throw new Error(`the platform is not ready after ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
