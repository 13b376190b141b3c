/**
 * The web page's tests on their own: `npx vitest run --config web/vitest.config.ts`
 * from the repository root (the root config runs them too once its include has
 * 'web/test/**\/*.test.ts'). Same global set-up as the rest: PostgreSQL and Redis.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['web/test/**/*.test.ts'],
    globalSetup: ['./scripts/test-services.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
