import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Run from the package root (`vite build --config web/vite.config.ts`); the paths are this folder's.
const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // The server's CSP allows no inline script, style or font: keep every asset a file of its own.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
});
