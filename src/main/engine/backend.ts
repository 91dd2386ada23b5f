// Picks the fastest TensorFlow.js backend present: CUDA, then WebGPU on a hardware adapter, then
// CPU libtensorflow, then wasm, then plain JS. Native packages may be missing (their install
// downloads binaries), so each is tried.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendDiagnostics, BackendInfo, GpuAdapterInfo } from '../../shared/domain';
import { adapterName, cudaLibraries, dawnGpu, describeAdapter, listAdapters, loadDawn, missingCudaSummary, releaseDawnGpu, vulkanHint } from './gpu';

import { BACKEND_CHOICES, type BackendChoice } from '../../shared/backends';

export { BACKEND_CHOICES, type BackendChoice };

const require = createRequire(import.meta.url);

interface Loaded {
  name: string;
  /** The WebGPU adapter (webgpu only). */
  adapter?: GpuAdapterInfo;
}

interface Candidate {
  choice: Exclude<BackendChoice, 'auto'>;
  pkg: string;
  gpu: boolean;
  /** `forced`: the user named this backend, so it runs even where auto would pass it over. */
  load(forced: boolean): Promise<Loaded>;
}

/**
 * libtensorflow's oneDNN kernels size their blocks from the CPU's cache sizes; on a virtual CPU
 * that reports none (Linux then has no cpu0/cache folder; seen on an AMD EPYC VM) they divide by
 * zero and the process dies with SIGFPE. There, unless the user chose otherwise, TensorFlow's own
 * kernels are used. Must run before libtensorflow loads: it reads the variable once.
 */
function avoidOneDnnWithoutCacheInfo(): void {
  if (process.platform !== 'linux' || process.env.TF_ENABLE_ONEDNN_OPTS !== undefined) return;
  if (fs.existsSync('/sys/devices/system/cpu/cpu0/cache')) return;
  process.env.TF_ENABLE_ONEDNN_OPTS = '0';
}

/**
 * WebGPU through Dawn's Node bindings: tfjs-backend-webgpu looks for `navigator.gpu` and the
 * GPU* globals when it loads, so they are put in place first. Auto never takes a software adapter
 * (lavapipe, SwiftShader): it is slower than the CPU backend.
 */
async function loadWebGpu(forced: boolean): Promise<Loaded> {
  const dawn = await loadDawn();
  const gpu = await dawnGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`no WebGPU adapter${vulkanHint()}`);
  const info = describeAdapter(adapter);
  if (info.software && !forced) {
    releaseDawnGpu();
    throw new Error(`only a software adapter (${adapterName(info)}), slower than the CPU; --backend webgpu forces it`);
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const g = globalThis as { navigator?: object };
  if (!g.navigator) g.navigator = {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  const mod = require('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: { prototype: WebGpuBackendProto } };
  guardSyncReads(mod.WebGPUBackend.prototype);
  return { name: 'webgpu', adapter: info };
}

interface WebGpuBackendProto {
  readSync(this: WebGpuBackendProto & { tensorMap: { get(id: object): { values?: unknown; dtype: string } | undefined } }, dataId: object): unknown;
  __artiphysGuard?: boolean;
}

/**
 * tfjs-backend-webgpu reads a GPU tensor synchronously (dataSync, arraySync) through an
 * OffscreenCanvas, which Node lacks: it would fail with "OffscreenCanvas is not defined" after
 * printing a warning on stdout. Say instead what happened and where. Values already on the CPU
 * (uploaded tensors, results read before) still read synchronously.
 */
function guardSyncReads(proto: WebGpuBackendProto): void {
  if (proto.__artiphysGuard) return;
  const readSync = proto.readSync;
  proto.readSync = function (dataId) {
    const d = this.tensorMap.get(dataId);
    if (!('OffscreenCanvas' in globalThis) && d && d.values == null && d.dtype !== 'string' && d.dtype !== 'complex64') {
      throw new Error(`synchronous read (dataSync/arraySync) of a GPU tensor on the webgpu backend${callerOf(new Error().stack)}: Node has no OffscreenCanvas; read it with "await tensor.data()"`);
    }
    return readSync.call(this, dataId);
  };
  proto.__artiphysGuard = true;
}

/** " in fn (file:line)" for the first stack frame outside tfjs, or "". */
function callerOf(stack: string | undefined): string {
  const frames = (stack ?? '').split('\n').slice(1).map((l) => l.trim());
  const frame = frames.find((l) => l.startsWith('at ') && !/@tensorflow|tfjs-core|tfjs-backend|backend\.ts|node:internal|readSync|dataSync|arraySync/.test(l));
  return frame ? ` ${frame.replace(/^at /, 'in ').replace(/file:\/\//, '')}` : '';
}

const candidates: Candidate[] = [
  {
    choice: 'tensorflow-gpu',
    pkg: '@tensorflow/tfjs-node-gpu',
    gpu: true,
    async load() {
      avoidOneDnnWithoutCacheInfo();
      require('@tensorflow/tfjs-node-gpu');
      return { name: 'tensorflow' };
    },
  },
  {
    choice: 'webgpu',
    pkg: '@tensorflow/tfjs-backend-webgpu',
    gpu: true,
    load: loadWebGpu,
  },
  {
    choice: 'tensorflow',
    pkg: '@tensorflow/tfjs-node',
    gpu: false,
    async load() {
      avoidOneDnnWithoutCacheInfo();
      require('@tensorflow/tfjs-node');
      return { name: 'tensorflow' };
    },
  },
  {
    choice: 'wasm',
    pkg: '@tensorflow/tfjs-backend-wasm',
    gpu: false,
    async load() {
      const wasm = require('@tensorflow/tfjs-backend-wasm');
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(dist + path.sep);
      return { name: 'wasm' };
    },
  },
  {
    choice: 'cpu',
    pkg: '@tensorflow/tfjs-backend-cpu',
    gpu: false,
    async load() {
      return { name: 'cpu' };
    },
  },
];

/** The backend asked for: the explicit argument, else ARTIPHYS_BACKEND, else auto. */
export function requestedBackend(explicit?: string): BackendChoice {
  const asked = explicit ?? process.env.ARTIPHYS_BACKEND ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(asked)) {
    throw new Error(`unknown backend "${asked}"; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  return asked as BackendChoice;
}

let active: BackendInfo | null = null;

/**
 * Initializes tfjs on the requested backend, or the best present one for `auto`. An explicit
 * choice that cannot load is an error, not a silent fallback: the user asked for it.
 */
export async function initBackend(choice: BackendChoice = requestedBackend()): Promise<BackendInfo> {
  if (active) return active;
  const skipped: BackendInfo['skipped'] = [];
  const list = choice === 'auto' ? candidates : candidates.filter((c) => c.choice === choice);
  for (const c of list) {
    try {
      const { name, adapter } = await c.load(choice !== 'auto');
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') refused`);
      await tf.ready();
      if (c.choice === 'tensorflow-gpu' && !gpuVisible()) throw new Error('no CUDA device visible to TensorFlow');
      if (c.choice === 'webgpu') await selfTest();
      const gpu = adapter ? !adapter.software : c.gpu;
      active = {
        name,
        package: c.pkg,
        gpu,
        skipped,
        tfjsVersion: tf.version.tfjs,
        requested: choice,
        reason: reasonFor(choice, c, adapter, skipped),
        ...(adapter ? { adapter } : {}),
      };
      return active;
    } catch (err) {
      let reason = firstLine(err);
      if (c.choice === 'tensorflow-gpu') {
        const cuda = missingCudaSummary();
        if (cuda) reason = `${reason}; ${cuda}`;
      }
      skipped.push({ package: c.pkg, reason });
    }
  }
  const why = skipped.map((s) => `${s.package}: ${s.reason}`).join('; ');
  throw new Error(`backend "${choice}" is not available (${why})`);
}

function reasonFor(choice: BackendChoice, c: Candidate, adapter: GpuAdapterInfo | undefined, skipped: BackendInfo['skipped']): string {
  if (choice !== 'auto') {
    const how = process.env.ARTIPHYS_BACKEND === choice ? 'ARTIPHYS_BACKEND' : '--backend';
    return `asked for with ${how}${adapter ? ` on ${adapter.software ? 'the software adapter' : 'the GPU'} ${adapterName(adapter)}` : ''}`;
  }
  if (c.choice === 'tensorflow-gpu') return 'auto: TensorFlow sees a CUDA device';
  if (adapter) return `auto: hardware GPU adapter ${adapterName(adapter)}`;
  return skipped.length ? `auto: the fastest backend that loads (${skipped.length} passed over)` : 'auto: the fastest backend';
}

/** A GPU whose driver cannot run a compute shader is better found now than in a run. */
async function selfTest(): Promise<void> {
  const t = tf.tidy(() => tf.sum(tf.mul(tf.range(0, 1024), 2)));
  const v = (await t.data())[0];
  t.dispose();
  if (v !== 1047552) throw new Error(`the WebGPU device computed a wrong sum (${v}, expected 1047552)`);
}

/** The adapters, the CUDA libraries: what doctor shows besides the backend. */
export async function diagnose(): Promise<BackendDiagnostics> {
  const { adapters, error } = await listAdapters();
  if (activeBackend()?.name !== 'webgpu') releaseDawnGpu();
  const cuda = cudaLibraries();
  return { adapters, adapterError: error, cuda, cudaSummary: missingCudaSummary(cuda) };
}

export function activeBackend(): BackendInfo | null {
  return active;
}

/** tfjs-node-gpu loads on machines without a GPU and then runs on the CPU; ask TF what it sees. */
function gpuVisible(): boolean {
  const env = tf.env() as unknown as { backend?: { binding?: { isUsingGpuDevice?: () => boolean } } };
  const binding = env.backend?.binding;
  return typeof binding?.isUsingGpuDevice === 'function' ? binding.isUsingGpuDevice() : false;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}
