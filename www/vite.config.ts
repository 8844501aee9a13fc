import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// React's API on Preact (preact/compat): the same components, a tenth of the
// JavaScript to parse before the first screen, and a lighter render of the cards.
// Vitest keeps React (Testing Library requires react-dom itself); the browser tests
// check the Preact build.
const compat = {
  'react-dom/test-utils': 'preact/test-utils',
  'react-dom/client': 'preact/compat/client',
  'react-dom': 'preact/compat',
  'react/jsx-runtime': 'preact/jsx-runtime',
  'react/jsx-dev-runtime': 'preact/jsx-dev-runtime',
  react: 'preact/compat',
};

export default defineConfig({
  plugins: [react()],
  resolve: process.env.VITEST || process.env.HLC_REACT ? {} : { alias: Object.entries(compat).map(([find, replacement]) => ({ find: new RegExp(`^${find}$`), replacement })) },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
} as any);
