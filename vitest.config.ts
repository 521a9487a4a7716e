import { defineConfig } from 'vitest/config';

// One `vitest run` at the root runs every workspace's tests (each workspace is a project).
export default defineConfig({
  test: {
    projects: ['routing', 'server', 'rider-app', 'control-room-ui'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
