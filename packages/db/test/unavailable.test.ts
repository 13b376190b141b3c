import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDb, isDatabaseUnavailable } from '../src/index.js';

const named = (name: string, message: string, code?: string) => Object.assign(new Error(message), { name }, code ? { code } : {});

describe('isDatabaseUnavailable', () => {
  it("knows pg's own connection errors, socket errors and Prisma's unreachable codes", () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Query read timeout',
      'Client has encountered a connection error and is not queryable',
    ])
      expect(isDatabaseUnavailable(new Error(message)), message).toBe(true);
    expect(isDatabaseUnavailable(named('Error', 'connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(named('error', 'terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(isDatabaseUnavailable(named('error', 'connection failure', '08006'))).toBe(true);
    expect(isDatabaseUnavailable(named('PrismaClientKnownRequestError', "Can't reach database server", 'P1001'))).toBe(true);
    expect(isDatabaseUnavailable(named('PrismaClientInitializationError', 'anything'))).toBe(true);
  });

  it('leaves query errors and everything else alone', () => {
    expect(isDatabaseUnavailable(named('PrismaClientKnownRequestError', 'Unique constraint failed', 'P2002'))).toBe(false);
    expect(isDatabaseUnavailable(named('error', 'duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('job 1 does not exist'))).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
  });

  it('bounds a query to a server that accepted the connection and then went silent', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket.pause()));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const db = createDb(`postgresql://postgres@127.0.0.1:${port}/ser`, { connectTimeoutMs: 300, queryTimeoutMs: 300 });
    try {
      const started = Date.now();
      const err = await db.$queryRaw`SELECT 1`.catch((e: unknown) => e);
      expect(isDatabaseUnavailable(err), String(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await db.$disconnect().catch(() => {});
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
