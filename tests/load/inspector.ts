/**
 * Just enough of the Chrome DevTools Protocol to force a garbage collection in a
 * Node.js process started with `--inspect=127.0.0.1:0`: one WebSocket (RFC 6455,
 * written here over node:http, so nothing is installed for it), one command
 * (HeapProfiler.collectGarbage), its answer, close.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

/** "Debugger listening on ws://127.0.0.1:PORT/UUID", as Node prints it on stderr. */
export function inspectorUrl(line: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1] ?? null;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : (() => {
            const b = Buffer.alloc(10);
            b[0] = 0x80 | opcode;
            b[1] = 0x80 | 127;
            b.writeBigUInt64BE(BigInt(length), 2);
            return b;
          })();
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** Sends one CDP command and resolves with its result. */
export async function cdpCommand(wsUrl: string, method: string, params: object = {}, timeoutMs = 15_000): Promise<unknown> {
  const url = new URL(wsUrl);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        'sec-websocket-version': '13',
      },
      timeout: timeoutMs,
    });
    req.on('upgrade', (_res, s: Socket, head: Buffer) => {
      if (head.length) s.unshift(head);
      resolve(s);
    });
    req.on('response', (res) => reject(new Error(`the inspector answered HTTP ${res.statusCode} instead of a WebSocket`)));
    req.on('timeout', () => req.destroy(new Error('the inspector did not answer')));
    req.on('error', reject);
    req.end();
  });

  try {
    return await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer within ${timeoutMs} ms`)), timeoutMs);
      let buffer = Buffer.alloc(0);
      let message: Buffer[] = [];
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`${method}: the inspector closed the connection`)));
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          if (buffer.length < 2) return;
          const fin = (buffer[0] & 0x80) !== 0;
          const opcode = buffer[0] & 0x0f;
          let length = buffer[1] & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (buffer.length < 4) return;
            length = buffer.readUInt16BE(2);
            offset = 4;
          } else if (length === 127) {
            if (buffer.length < 10) return;
            length = Number(buffer.readBigUInt64BE(2));
            offset = 10;
          }
          if (buffer.length < offset + length) return;
          const payload = buffer.subarray(offset, offset + length);
          buffer = buffer.subarray(offset + length);
          if (opcode === 0x8) return reject(new Error(`${method}: the inspector closed the WebSocket`));
          if (opcode !== 0x1 && opcode !== 0x0) continue; // pings and the like
          message.push(Buffer.from(payload));
          if (!fin) continue;
          const text = Buffer.concat(message).toString('utf8');
          message = [];
          const parsed = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
          if (parsed.id !== 1) continue; // an event
          clearTimeout(timer);
          if (parsed.error) reject(new Error(`${method}: ${parsed.error.message}`));
          else resolve(parsed.result);
          return;
        }
      });
      socket.write(frame(0x1, Buffer.from(JSON.stringify({ id: 1, method, params }))));
    });
  } finally {
    socket.removeAllListeners('close');
    socket.on('error', () => {});
    if (!socket.destroyed) socket.end(frame(0x8, Buffer.alloc(0)));
    setTimeout(() => socket.destroy(), 1_000).unref();
  }
}

/** A full, forced garbage collection in the process behind `wsUrl`. */
export async function collectGarbage(wsUrl: string): Promise<void> {
  await cdpCommand(wsUrl, 'HeapProfiler.collectGarbage');
}
