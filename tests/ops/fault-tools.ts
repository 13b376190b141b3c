/**
 * Real faults for the fault tests: a TCP proxy that can take a backend away and give
 * it back on the same address, and a private Redis server that can be crashed and
 * restarted on its port and data directory (the machine's shared servers are never touched).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { waitForPort } from '@ser/launcher';

/**
 * Forwards 127.0.0.1:port to a backend. `down()` closes the listener and destroys
 * every connection (clients see their sockets reset, new connections refused), as a
 * database host that went away; `up()` listens again on the same port.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Partitioned: bytes are neither forwarded nor refused, as with a host gone from the network. */
  private stalled = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      if (this.stalled) {
        // Accepted, then silence: the client waits for PostgreSQL's first answer.
        this.sockets.add(client);
        client.once('close', () => this.sockets.delete(client));
        client.on('error', () => client.destroy());
        client.pause();
        return;
      }
      const backend = connect(this.target.port, this.target.host);
      for (const socket of [client, backend]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          backend.destroy();
        });
      }
      client.pipe(backend);
      backend.pipe(client);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /**
   * The backend's host gone from the network (a crashed machine, a failover): every
   * connection, open or new, stays open but carries nothing either way, no reset, no
   * refusal. Only timeouts can tell.
   */
  blackhole(): void {
    this.stalled = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  /**
   * A replacement reachable at the same address: new connections reach the backend
   * again; the black-holed ones stay dead (until `down()`), as those to a host that
   * never came back would.
   */
  replace(): void {
    this.stalled = false;
  }

  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }
}

/**
 * A redis-server of our own, configured like the compose file's (AOF on, noeviction),
 * with every write fsynced before it is acknowledged, so a crash loses nothing a
 * client was told was done.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    this.child = child;
    this.exited = once(child, 'exit');
    await Promise.race([
      waitForPort(this.port, 15_000),
      this.exited.then(() => {
        throw new Error(`redis-server exited at start (code ${child.exitCode})`);
      }),
    ]);
  }

  /** Dies at once, as in a crash or an OOM kill. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGSTOP: Redis stops answering but its connections stay open (a hung host, a
   * network that drops packets); commands sent meanwhile wait in its socket buffers
   * and run once it is resumed (SIGCONT).
   */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGTERM: Redis finishes writing its AOF and exits. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}
