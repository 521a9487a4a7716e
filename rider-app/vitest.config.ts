import { defineConfig } from 'vitest/config';

// Unit tests (src) and browser tests (e2e: playwright-core driving Debian Chromium against a real test server).
export default defineConfig({
  test: {
    name: 'rider-app',
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // browser tests run after the routing and server tests, not beside them: on 2 cores a starved browser
    // answers the lease heartbeat late, and the bus then stops safely, as it must
    sequence: { groupOrder: 1 },
  },
});
