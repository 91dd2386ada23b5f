// Type-checks the desktop shell when Electron's type definitions are installed. Electron is an
// optional dependency (its install downloads a binary), so on machines where that failed this
// says it skipped rather than pretending to pass. .ci/run installs the types for CI.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require.resolve('electron/electron.d.ts');
} catch {
  console.log('desktop type check skipped: the electron package is not installed');
  process.exit(0);
}
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.desktop.json'], { stdio: 'inherit' });
console.log('desktop type check passed');
