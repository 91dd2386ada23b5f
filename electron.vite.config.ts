import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import pkg from './package.json';

// Electron is an optional dependency (its install downloads a binary). Where its package is
// absent, tell electron-vite the targeted major version so the build does not need it.
try {
  createRequire(import.meta.url).resolve('electron/package.json');
} catch {
  process.env.ELECTRON_MAJOR_VER ??= pkg.optionalDependencies.electron.replace(/^\D*/, '').split('.')[0];
}

// Three Node bundles share src/main: the desktop shell (index), the CLI and server (cli), and the
// engine process (engine). Chunks stay beside them so each entry finds engine.js next to it.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/desktop/main.ts'),
          cli: resolve(__dirname, 'src/main/cli/index.ts'),
          engine: resolve(__dirname, 'src/main/engine/host.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/main/desktop/preload.ts') },
        // A sandboxed renderer's preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [vue()],
    build: {
      outDir: 'out/renderer',
      minify: 'esbuild',
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
