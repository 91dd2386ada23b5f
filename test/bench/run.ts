// `npm run bench [-- NAME] [--json]`: runs every test/bench/*.bench.ts (or those whose file name
// contains NAME) in turn and prints what each measured. With --json it prints one JSON document
// instead: the backend and every figure a bench reported under a key. Speed goals are checked
// here by reading the figures, never as timed tests.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { engineEnvironment } from '../../src/main/services/engine-process';

export interface BenchModule {
  /** One line that says what is measured. */
  title: string;
  /** `key` names a figure in the --json document. */
  run(report: (label: string, value: number, unit: string, key?: string) => void): Promise<void>;
}

// The benches run the engine's code in this process: where it lacks the environment an engine
// process starts with (its allocator settings), it runs itself again with it.
const env = engineEnvironment();
if (env !== process.env) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: 'inherit' });
  process.exit(again.status ?? 1);
}

const dir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.find((a) => !a.startsWith('--'));
// Imported after the check above, so that a process about to start again loads no TensorFlow.
const { initBackend } = await import('../../src/main/engine/backend');
const backend = await initBackend();
const figures: Record<string, unknown> = { backend: backend.name, backendPackage: backend.package };
if (!json) console.log(`backend: ${backend.name} (${backend.package})${backend.gpu ? ' GPU' : ''}`);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()) {
  if (only && !file.includes(only)) continue;
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)).default as BenchModule;
  if (!json) console.log(`\n## ${file}: ${mod.title}`);
  await mod.run((label, value, unit, key) => {
    if (json && key) figures[key] = Number.isFinite(value) ? value : null;
    if (!json) console.log(`  ${label.padEnd(60)} ${value.toPrecision(4).padStart(10)} ${unit}`);
  });
}
if (json) process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
