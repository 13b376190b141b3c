/**
 * `npm start`: the whole platform on this machine. PostgreSQL and Redis default to
 * the local servers; with no S3_ENDPOINT a local S3-compatible store keeps the
 * uploads under .data/. A service that dies is started again.
 */
import { env, loadConfig } from '@ser/config';
import { DEFAULT_DATABASE_URL } from '@ser/db';
import { startPlatform } from '@ser/launcher';

const config = loadConfig('platform', {
  databaseUrl: env.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres', 'postgresql']),
  redisUrl: env.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis', 'rediss']),
  s3Endpoint: env.optional('S3_ENDPOINT'),
  s3AccessKey: env.string('S3_ACCESS_KEY', 'LOCALS3'),
  s3SecretKey: env.string('S3_SECRET_KEY', 'LOCALS3SECRET'),
  s3Bucket: env.string('S3_BUCKET', 'ser-audio'),
  dataDir: env.optional('DATA_DIR'),
  host: env.string('HOST', '127.0.0.1'),
});

const say = (message: string) => process.stderr.write(`platform: ${message}\n`);

say('applying migrations and starting the services');
const platform = await startPlatform({
  databaseUrl: config.databaseUrl,
  redisUrl: config.redisUrl,
  s3: config.s3Endpoint
    ? { endpoint: config.s3Endpoint, accessKey: config.s3AccessKey, secretKey: config.s3SecretKey, bucket: config.s3Bucket }
    : undefined,
  dataDir: config.dataDir,
  host: config.host,
});

let stopping = false;
for (const service of Object.values(platform.services)) {
  const watch = async (): Promise<void> => {
    const code = await service.exit();
    if (stopping) return;
    say(`${service.name} exited (code ${code}); starting it again in 1 s`);
    await new Promise((r) => setTimeout(r, 1000));
    if (stopping) return;
    service.start();
    void watch();
  };
  void watch();
}

say(`ready: API ${platform.gatewayUrl}/v1 · web page ${platform.gatewayUrl}/ · docs ${platform.gatewayUrl}/docs`);
say(
  `object storage ${platform.s3.endpoint} (bucket ${platform.s3.bucket}) · metrics :${platform.ports.metricsInference} :${platform.ports.metricsExtractor} :${platform.ports.metricsWorker} and ${platform.gatewayUrl}/metrics`,
);
say('Ctrl-C stops it');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    stopping = true;
    say(`${signal}: stopping (in-flight work is finished or handed back to the queue)`);
    await platform.stop();
    say('stopped');
    process.exit(0);
  });
}
