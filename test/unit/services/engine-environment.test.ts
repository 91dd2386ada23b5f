// The engine process starts with glibc's allocator told to keep freed memory (engine speed): the
// setting reaches the real forked engine, and a user's own allocator settings are left alone.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { engineEnvironment, forkEngine, withoutEngineSettings } from '../../../src/main/services/engine-process';

describe('engine environment', () => {
  it('adds the allocator settings where the user set neither, once', () => {
    const fresh = engineEnvironment({ PATH: '/bin' });
    expect(fresh).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: String(32 * 2 ** 20), MALLOC_TRIM_THRESHOLD_: String(4 * 2 ** 30) });
    // Applied again (a bench that starts itself again), nothing changes.
    expect(engineEnvironment(fresh)).toBe(fresh);
    const own = { MALLOC_TRIM_THRESHOLD_: '0' };
    expect(engineEnvironment(own)).toBe(own);
    // Other programs (the bench's PyTorch) get the environment without them.
    expect(withoutEngineSettings(fresh)).toEqual({ PATH: '/bin' });
    expect(withoutEngineSettings(own)).toBe(own);
  });

  it.skipIf(process.platform !== 'linux')('reaches the forked engine process', async () => {
    const engine = forkEngine();
    try {
      // Once it answers, the process runs the engine (before its exec, /proc shows ours).
      const answered = new Promise((resolve) => engine.onMessage(resolve));
      engine.send({ type: 'init', backend: 'cpu' });
      await answered;
      const environ = readFileSync(`/proc/${engine.pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain(`MALLOC_MMAP_THRESHOLD_=${32 * 2 ** 20}`);
      expect(environ).toContain(`MALLOC_TRIM_THRESHOLD_=${4 * 2 ** 30}`);
    } finally {
      engine.kill();
    }
  });
});
