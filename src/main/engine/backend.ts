// Picks the fastest TensorFlow.js backend present: CUDA, then CPU libtensorflow, then wasm, then
// plain JS. Native packages may be missing (their install downloads binaries), so each is tried.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/domain';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

const require = createRequire(import.meta.url);

interface Candidate {
  choice: Exclude<BackendChoice, 'auto'>;
  pkg: string;
  gpu: boolean;
  load(): Promise<string>;
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

const candidates: Candidate[] = [
  {
    choice: 'tensorflow-gpu',
    pkg: '@tensorflow/tfjs-node-gpu',
    gpu: true,
    async load() {
      avoidOneDnnWithoutCacheInfo();
      require('@tensorflow/tfjs-node-gpu');
      return 'tensorflow';
    },
  },
  {
    choice: 'tensorflow',
    pkg: '@tensorflow/tfjs-node',
    gpu: false,
    async load() {
      avoidOneDnnWithoutCacheInfo();
      require('@tensorflow/tfjs-node');
      return 'tensorflow';
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
      return 'wasm';
    },
  },
  {
    choice: 'cpu',
    pkg: '@tensorflow/tfjs-backend-cpu',
    gpu: false,
    async load() {
      return 'cpu';
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
      const name = await c.load();
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') refused`);
      await tf.ready();
      if (c.gpu && !gpuVisible()) throw new Error('no CUDA device visible to TensorFlow');
      active = { name, package: c.pkg, gpu: c.gpu, skipped, tfjsVersion: tf.version.tfjs };
      return active;
    } catch (err) {
      skipped.push({ package: c.pkg, reason: firstLine(err) });
    }
  }
  const why = skipped.map((s) => `${s.package}: ${s.reason}`).join('; ');
  throw new Error(`backend "${choice}" is not available (${why})`);
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
