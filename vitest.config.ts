import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'tests/e2e/**/*.test.ts',
      'web/test/**/*.test.ts',
      'tests/ops/**/*.test.ts',
    ],
    globalSetup: ['./scripts/test-services.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './scripts/vitest-summary.ts'],
  },
});
