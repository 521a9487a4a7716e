import { defineConfig } from 'vitest/config';

// Unit tests (src) and browser tests (e2e: playwright-core driving Debian Chromium against a real test server).
export default defineConfig({
  test: {
    name: 'rider-app',
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
