import { defineConfig } from 'vitest/config';

// the Leitstand's browser tests run last and alone (see rider-app/vitest.config.ts)
export default defineConfig({
  test: { name: 'control-room-ui', include: ['e2e/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 240_000, fileParallelism: false, sequence: { groupOrder: 2 } },
});
