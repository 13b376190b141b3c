/**
 * Container health check for the gRPC services: asks grpc.health.v1 at host:port
 * and exits 0 only when it answers SERVING.
 *   node --import tsx scripts/grpc-health.ts 127.0.0.1:50051
 */
import { callUnary, createClient, HealthCheckResponse_ServingStatus, HealthClient } from '@ser/grpc';

const address = process.argv[2] ?? '127.0.0.1:50051';
const client = createClient(HealthClient, address);
try {
  const res = await callUnary(client, 'check', { service: '' }, { deadlineMs: 3_000 });
  const serving = res.status === HealthCheckResponse_ServingStatus.SERVING;
  process.stdout.write(`${address}: ${HealthCheckResponse_ServingStatus[res.status]}\n`);
  process.exit(serving ? 0 : 1);
} catch (err) {
  process.stdout.write(`${address}: ${(err as Error).message}\n`);
  process.exit(1);
}
