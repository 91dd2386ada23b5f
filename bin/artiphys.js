#!/usr/bin/env node
// The `artiphys` command: runs the built CLI (npm install builds it; `npm run build` rebuilds).
import { existsSync } from 'node:fs';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('artiphys is not built yet: run "npm run build" in the project folder');
  process.exit(1);
}
await import(cli.href);
