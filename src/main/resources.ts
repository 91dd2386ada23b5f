// Files shipped under resources/, found from the source tree (tests) or the built bundle
// (out/main) alike, by looking upwards from this module.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of `relative` (e.g. 'resources/zoo/manifest.json'), or null when the installation lacks it. */
export function findResource(relative: string): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
