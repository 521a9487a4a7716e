import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The rider app is served by the server at / (rider-app/dist). In development (`npm run dev -w rider-app`), API and
// socket traffic go to a server running on :8080 (`npm start`).
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2000, assetsInlineLimit: 0 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
