// `artiphys doctor`: starts an engine, lets it choose its backend, and asks it what it sees of the
// machine's GPUs (WebGPU adapters, the CUDA libraries tfjs-node-gpu needs), then stops it.
import type { BackendDiagnostics, BackendInfo } from '../../shared/domain';
import type { EngineLauncher } from './engine-process';

export interface EngineDiagnosis {
  backend: BackendInfo | null;
  error?: string;
  diagnostics?: BackendDiagnostics;
}

export function diagnoseEngine(launcher: EngineLauncher, backend?: string, timeoutSeconds = 120): Promise<EngineDiagnosis> {
  const engine = launcher();
  return new Promise((resolve) => {
    let settled = false;
    let info: BackendInfo | null = null;
    const done = (r: EngineDiagnosis) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      engine.kill();
      resolve(r);
    };
    const timer = setTimeout(() => done({ backend: info, error: `the engine did not start within ${timeoutSeconds} s` }), timeoutSeconds * 1000);
    engine.onMessage((msg) => {
      if (msg.type === 'init-failed') done({ backend: null, error: msg.error, ...(msg.diagnostics ? { diagnostics: msg.diagnostics } : {}) });
      if (msg.type === 'ready') {
        info = msg.backend;
        done({ backend: info, ...(msg.diagnostics ? { diagnostics: msg.diagnostics } : {}) });
      }
    });
    engine.onExit((code, signal) => done({ backend: info, error: `engine process exited (${signal ?? `code ${code}`})` }));
    engine.send({ type: 'init', ...(backend ? { backend } : {}), diagnose: true });
  });
}
