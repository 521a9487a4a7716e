import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'control-room-ui', include: ['e2e/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 240_000, fileParallelism: false },
});
