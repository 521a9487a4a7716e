import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the server at /leitstand/; in development, API and sockets go to a running server on :8080.
export default defineConfig({
  base: '/leitstand/',
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
