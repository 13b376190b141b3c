/**
 * The web page: PUBLIC_DIR/index.html at / and the files beside it (the built
 * page's scripts, styles, icons) at their paths; a small placeholder pointing at
 * the API docs while no page is installed. Files are read per request, so a page
 * built later shows without a restart.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';
import { notFound } from '../errors.js';

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Speech emotion recognition</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>Speech emotion recognition</h1>
<p>The web page is not installed. The API is here: see the <a href="/docs">interactive docs</a> or <a href="/openapi.json">the OpenAPI document</a>.</p>
</body>
</html>
`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export default async function page(fastify: FastifyInstance, { deps }: RouteContext): Promise<void> {
  const root = resolve(deps.config.publicDir);

  fastify.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const html = await readFile(join(root, 'index.html'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return PLACEHOLDER;
      throw err;
    });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });

  // Lowest priority of all routes (find-my-way tries static and parametric paths first).
  fastify.get<{ Params: { '*': string } }>('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = resolve(root, `.${sep}${request.params['*']}`);
    const type = CONTENT_TYPES[extname(path).toLowerCase()];
    // Only known file kinds, only inside the public folder (no ../ escapes, no dotfiles).
    if (
      !type ||
      !path.startsWith(root + sep) ||
      path
        .slice(root.length)
        .split(sep)
        .some((s) => s.startsWith('.'))
    ) {
      throw notFound(`no route GET /${request.params['*']}`);
    }
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw notFound(`no route GET /${request.params['*']}`);
    // Vite names built assets by content hash, so they may be cached for good.
    const immutable = /[.-][\w-]{8,}\.\w+$/.test(path) && path.includes(`${sep}assets${sep}`);
    return reply
      .type(type)
      .header('content-length', info.size)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(createReadStream(path));
  });
}
