// `npm start`: the desktop workbench (electron-vite preview). Electron's package downloads its
// binary when it installs; where that failed or was skipped (a server, an offline install),
// electron-vite would stop with a stack trace. This says so in one line and names the headless
// command instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Electron's binary, or why there is none. In plain Node, require('electron') gives the binary's
 * path, and throws when the package or its download is missing.
 */
export function electronBinary(load = () => createRequire(path.join(root, 'package.json'))('electron')) {
  let binary;
  try {
    binary = String(load());
  } catch (err) {
    const why = err && err.code === 'MODULE_NOT_FOUND' ? 'the electron package is not installed' : 'its download did not complete';
    return { ok: false, why };
  }
  if (!existsSync(binary)) return { ok: false, why: `${binary} is missing` };
  return { ok: true, binary };
}

export const HEADLESS_HINT = 'run the workbench in a browser instead: npx artiphys serve';

function main() {
  const found = electronBinary();
  if (!found.ok) {
    console.error(`artiphys: the desktop app needs Electron's binary, which is not installed (${found.why}); ${HEADLESS_HINT}`);
    process.exit(1);
  }
  const bin = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'electron-vite.cmd' : 'electron-vite');
  const child = spawn(bin, ['preview', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
