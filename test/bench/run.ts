// `npm run bench`: runs every test/bench/*.bench.ts in turn and prints what each measured.
// Speed goals are checked here by reading the figures, never as timed tests.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '../../src/main/engine/backend';

export interface BenchModule {
  /** One line that says what is measured. */
  title: string;
  run(report: (label: string, value: number, unit: string) => void): Promise<void>;
}

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const backend = await initBackend();
console.log(`backend: ${backend.name} (${backend.package})${backend.gpu ? ' GPU' : ''}`);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()) {
  if (only && !file.includes(only)) continue;
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)).default as BenchModule;
  console.log(`\n## ${file}: ${mod.title}`);
  await mod.run((label, value, unit) => console.log(`  ${label.padEnd(60)} ${value.toPrecision(4).padStart(10)} ${unit}`));
}
