import { defineConfig } from 'vite';

export default defineConfig({
  // Preact's JSX without a Babel plugin: esbuild/oxc compile it with Preact's automatic runtime.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The page's Content-Security-Policy allows no inline script, style or data: URL.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
