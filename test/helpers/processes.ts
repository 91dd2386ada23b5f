// Waiting for another process to end, in tests that kill or orphan engines.
import fs from 'node:fs';

/** Waits up to `withinMs` for process `pid` to end; a zombie (ended, not yet reaped) counts as ended. */
export async function exited(pid: number, withinMs = 5000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < withinMs) {
    try {
      process.kill(pid, 0);
      if (/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
