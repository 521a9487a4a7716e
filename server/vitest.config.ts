import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'server', include: ['src/**/*.test.ts', 'load/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000, sequence: { groupOrder: 0 } },
});
