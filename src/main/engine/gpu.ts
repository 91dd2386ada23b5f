// What the engine can learn about the machine's GPUs without running anything on them: WebGPU
// adapters through Dawn's Node bindings (npm `webgpu`), and whether the CUDA and cuDNN libraries
// that tfjs-node-gpu's libtensorflow loads are there. Both packages are optional.
import os from 'node:os';
import type { CudaLibrary, GpuAdapterInfo } from '../../shared/domain';

/** Dawn's entry points: `create(flags)` gives a `GPU` (navigator.gpu), `globals` the GPU* classes. */
export interface Dawn {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

export interface DawnAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface DawnAdapter {
  info?: DawnAdapterInfo;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
}

export interface DawnGpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power'; forceFallbackAdapter?: boolean }): Promise<DawnAdapter | null>;
}

let dawn: Promise<Dawn> | null = null;

/** Loads the `webgpu` package once (an ES module with a native addon; missing where not installed). */
export function loadDawn(): Promise<Dawn> {
  // A computed specifier: the bundler leaves it to Node, which finds the optional package or not.
  const pkg = 'webgpu';
  dawn ??= (import(/* @vite-ignore */ pkg) as Promise<Dawn>).catch((err: unknown) => {
    dawn = null;
    throw new Error(`the optional package "webgpu" (Dawn) is not installed or does not load: ${firstLine(err)}`);
  });
  return dawn;
}

let instance: DawnGpu | null = null;

/** Lets the Dawn instance go (auto passed over a software adapter; doctor has listed them). */
export function releaseDawnGpu(): void {
  instance = null;
}

/** The one Dawn instance of this process (navigator.gpu for tfjs-backend-webgpu). */
export async function dawnGpu(): Promise<DawnGpu> {
  if (instance) return instance;
  const d = await loadDawn();
  instance = d.create([]);
  return instance;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render|\bwarp\b/i;

/**
 * Software rasterizers (Mesa's llvmpipe/lavapipe, SwiftShader, Microsoft's WARP) are correct but
 * slower than the CPU backend: never chosen automatically. The adapter says so itself
 * (isFallbackAdapter, architecture "software"); the names are checked too, since a Vulkan driver
 * need not set either.
 */
export function describeAdapter(adapter: DawnAdapter): GpuAdapterInfo {
  const i = adapter.info ?? {};
  const info = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
  };
  const fallback = i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  const software = fallback || [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE.test(s));
  return { ...info, software };
}

export function adapterName(a: GpuAdapterInfo): string {
  return a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * Every adapter Dawn offers: WebGPU hands out one per request, so ask for the high-performance,
 * the low-power and the fallback one and keep the distinct ones.
 */
export async function listAdapters(): Promise<{ adapters: GpuAdapterInfo[]; error: string | null }> {
  try {
    const gpu = await dawnGpu();
    const seen = new Map<string, GpuAdapterInfo>();
    const asks = [{ powerPreference: 'high-performance' as const }, { powerPreference: 'low-power' as const }, { forceFallbackAdapter: true }];
    for (const ask of asks) {
      const a = await gpu.requestAdapter(ask).catch(() => null);
      if (!a) continue;
      const info = describeAdapter(a);
      seen.set(JSON.stringify(info), info);
    }
    const adapters = [...seen.values()];
    return { adapters, error: adapters.length ? null : `no WebGPU adapter${vulkanHint()}` };
  } catch (err) {
    return { adapters: [], error: firstLine(err) };
  }
}

/** On Linux, Dawn runs on Vulkan: without its loader there is no adapter at all. */
export function vulkanHint(): string {
  if (process.platform !== 'linux') return '';
  const loader = probeLibrary('libvulkan.so.1');
  if (!loader.found) return ' (the Vulkan loader libvulkan.so.1 is missing: install libvulkan1, and a Vulkan driver)';
  return ' (Vulkan loader present: is a Vulkan driver installed, e.g. the NVIDIA driver or mesa-vulkan-drivers?)';
}

/**
 * The libraries libtensorflow 2.9.1 (tfjs-node-gpu 4.22) opens at run time, for CUDA 11.2 and
 * cuDNN 8.1. Where one is missing it logs a line and quietly runs on the CPU.
 */
export const TFJS_NODE_GPU_LIBRARIES = [
  'libcuda.so.1',
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
];

/**
 * Whether the dynamic linker finds a library by its soname, searched as libtensorflow's own
 * dlopen searches (LD_LIBRARY_PATH, the ld.so cache, the standard folders): it is really opened.
 * Node refuses it afterwards as an addon ("did not self-register"), which means it was found.
 */
export function probeLibrary(soname: string): CudaLibrary {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, soname, os.constants.dlopen.RTLD_LAZY);
    return { library: soname, found: true };
  } catch (err) {
    const msg = firstLine(err);
    if (/did not self-register|no such symbol|napi_register_module|node_register_module/i.test(msg)) return { library: soname, found: true };
    return { library: soname, found: false, detail: msg };
  }
}

export function cudaLibraries(): CudaLibrary[] {
  if (process.platform !== 'linux') return [];
  return TFJS_NODE_GPU_LIBRARIES.map(probeLibrary);
}

/** "missing libcudart.so.11.0, libcudnn.so.8 (tfjs-node-gpu 4.22 needs CUDA 11.2 and cuDNN 8.1)", or null. */
export function missingCudaSummary(libs: CudaLibrary[] = cudaLibraries()): string | null {
  const missing = libs.filter((l) => !l.found);
  if (!missing.length) return null;
  const notFound = missing.filter((l) => !l.detail || (/cannot open shared object file/.test(l.detail) && l.detail.startsWith(l.library)));
  const broken = missing.filter((l) => !notFound.includes(l));
  const parts = [];
  if (notFound.length) parts.push(`missing ${notFound.map((l) => l.library).join(', ')}`);
  for (const b of broken) parts.push(`${b.library} does not load: ${b.detail}`);
  return `${parts.join('; ')} (tfjs-node-gpu 4.22 needs the NVIDIA driver, CUDA 11.2 and cuDNN 8.1; newer CUDA versions do not provide these names)`;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 300);
}
