// Entry point of the engine process: all tensor work happens here, never in the UI or the main
// event loop. It runs in an Electron utilityProcess (desktop) or a forked Node child (headless)
// and speaks the protocol in ./protocol.ts with the service that owns the project database.
import * as tf from '@tensorflow/tfjs';
import { activeBackend, diagnose, initBackend, requestedBackend } from './backend';
import type { EngineAnalysis, ImageOut, RunContext } from './analysis';
import { engineAnalysis } from './analyses';
import { resolveModel } from './models';
import { inspectModelFile } from './models/load';
import { encodePng } from './png';
import type { FromEngine, ToEngine } from './protocol';

/** The part of Electron's utilityProcess parentPort the engine uses (no Electron import here). */
interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

interface Port {
  send(msg: FromEngine): void;
  onMessage(listener: (msg: ToEngine) => void): void;
}

function connect(): Port {
  // Electron's utilityProcess gives a parentPort; a forked Node child has process.send.
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (msg) => parentPort.postMessage(msg),
      onMessage: (l) => parentPort.on('message', (e) => l(e.data as ToEngine)),
    };
  }
  if (!process.send) throw new Error('the engine must be started as a child process');
  // The service that started this engine is gone (killed, crashed): nobody will store what it
  // computes, so it stops instead of running on as an orphan. Analyses yield to the event loop
  // between steps, so this runs within a step.
  process.on('disconnect', () => process.exit(0));
  return {
    send: (msg) => process.send!(msg),
    onMessage: (l) => process.on('message', (m) => l(m as ToEngine)),
  };
}

const port = connect();
const cancelled = new Set<number>();
/** Runs execute one at a time; the service queues them, this chain only guards against overlap. */
let queue: Promise<void> = Promise.resolve();

port.onMessage((msg) => {
  switch (msg.type) {
    case 'init':
      // An unknown backend name throws at once: an init failure like any other, not a crash.
      Promise.resolve()
        .then(() => initBackend(requestedBackend(msg.backend)))
        .then(async (backend) => port.send({ type: 'ready', backend, ...(msg.diagnose ? { diagnostics: await diagnose() } : {}) }))
        .catch(async (err) => port.send({ type: 'init-failed', error: message(err), ...(msg.diagnose ? { diagnostics: await diagnose() } : {}) }));
      break;
    case 'cancel':
      cancelled.add(msg.runId);
      break;
    case 'run':
      queue = queue.then(() => execute(msg));
      break;
    case 'inspect':
      inspectModelFile(msg.path)
        .then((model) => port.send({ type: 'inspected', requestId: msg.requestId, model }))
        .catch((err) => port.send({ type: 'inspected', requestId: msg.requestId, error: message(err) }));
      break;
  }
});

async function execute(msg: Extract<ToEngine, { type: 'run' }>): Promise<void> {
  const started = performance.now();
  const computeSeconds = () => (performance.now() - started) / 1000;
  const finish = (status: 'done' | 'failed' | 'cancelled', error?: string) =>
    port.send({ type: 'finished', runId: msg.runId, status, ...(error ? { error } : {}), computeSeconds: computeSeconds() });
  try {
    if (!activeBackend()) throw new Error('engine backend not initialized');
    const analysis: EngineAnalysis<Record<string, unknown>> = engineAnalysis(msg.kind);
    const tensorsBefore = tf.memory().numTensors;
    await analysis.run(msg.settings, makeContext(msg));
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked > 0) port.send({ type: 'log', runId: msg.runId, message: `warning: ${leaked} tensors not freed by ${msg.kind}` });
    finish(cancelled.has(msg.runId) ? 'cancelled' : 'done');
  } catch (err) {
    finish(cancelled.has(msg.runId) ? 'cancelled' : 'failed', message(err));
  } finally {
    cancelled.delete(msg.runId);
  }
}

/** Progress messages are throttled; the ETA comes from the pace since this attempt started. */
function makeContext(msg: Extract<ToEngine, { type: 'run' }>): RunContext {
  const t0 = performance.now();
  let firstStep: number | null = null;
  let lastSent = 0;
  return {
    runId: msg.runId,
    seed: msg.seed,
    resumeFrom: msg.resumeFrom,
    cancelled: () => cancelled.has(msg.runId),
    progress(step, total, text) {
      const t = performance.now();
      if (firstStep === null) firstStep = step - 1;
      if (t - lastSent < 100 && step < total) return;
      lastSent = t;
      const done = step - firstStep;
      const etaSeconds = done > 0 && step > 0 ? ((t - t0) / 1000 / done) * (total - step) : null;
      port.send({ type: 'progress', runId: msg.runId, progress: { step, total, etaSeconds, ...(text ? { message: text } : {}) } });
    },
    emitResult(key, data, images: ImageOut[] = []) {
      port.send({
        type: 'result',
        runId: msg.runId,
        key,
        data,
        images: images.map((i) => ({ name: i.name, width: i.width, height: i.height, png: encodePng(i.rgb, i.width, i.height) })),
      });
    },
    checkpoint(state) {
      port.send({ type: 'checkpoint', runId: msg.runId, state });
    },
    loadModel: (id) => resolveModel(id, msg.models),
    log(text) {
      port.send({ type: 'log', runId: msg.runId, message: text });
    },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
