/**
 * Answering before the whole request body has arrived (415 after the first bytes
 * of a file, 413 at the size limit, a file part we did not read) leaves the upload
 * stuck: the multipart parser holds the socket paused, so the connection never
 * ends and blocks a graceful shutdown. Such responses say `Connection: close`;
 * afterwards the rest of the body is read and dropped, and the socket is destroyed
 * if the client keeps it open longer than a few seconds.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const DRAIN_MS = 5_000;

async function unreadBody(fastify: FastifyInstance): Promise<void> {
  // `complete` is false while the HTTP parser has not seen the end of the body (absent under inject).
  const unfinished = (raw: { complete?: boolean }) => raw.complete === false;

  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (unfinished(request.raw)) reply.header('connection', 'close');
    done(null, payload);
  });

  fastify.addHook('onResponse', (request, _reply, done) => {
    const raw = request.raw;
    if (unfinished(raw)) {
      raw.unpipe();
      raw.resume();
      const socket = raw.socket;
      const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
    done();
  });
}

export default fp(unreadBody, { name: 'ser-unread-body' });
