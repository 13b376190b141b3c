/** Builds the page into the gateway's public folder, which it serves at /. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: '../services/gateway/public',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `pnpm --filter @ser/web dev`: the page with hot reload, the API from a running gateway.
    proxy: Object.fromEntries(
      ['/v1', '/readyz', '/healthz', '/openapi.json'].map((p) => [p, process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080']),
    ),
  },
});
