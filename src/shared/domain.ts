// Domain types shared by the engine, the services and the renderer. Pure data, no behaviour.

/** How a model wants its input: the engine converts pixel images (RGB, 0..255) with this. */
export interface InputConvention {
  /** Channel order the first layer expects. */
  channelOrder: 'RGB' | 'BGR';
  /** Pixel values are first scaled to this range: 255 keeps 0..255, 1 maps to 0..1. */
  scale: 1 | 255;
  /** Per-channel mean, in the scaled range and in the model's channel order. */
  mean: [number, number, number];
  /** Per-channel std, in the scaled range and in the model's channel order. */
  std: [number, number, number];
  /** Usual input size (square side in pixels). */
  inputSize: number;
}

/** Receptive field of a layer's units in input pixels (METHODS §1). */
export interface ReceptiveField {
  /** Side of the square region of the input one unit sees. */
  size: number;
  /** Distance in input pixels between neighbouring units (the product of strides). */
  jump: number;
  /** Input coordinate of the centre of unit (0, 0); may be negative (padding). */
  offset: number;
}

export interface LayerInfo {
  /** Stable, readable id used everywhere a layer is named (CLI, API, database). */
  name: string;
  /** Operator that produces it (Conv, Relu, ...), for display. */
  op: string;
  /** Output shape for one input of the model's usual size, NHWC without the batch: [H, W, C] or [C]. */
  shape: number[];
  /** Absent for layers without spatial layout (after Flatten/Gemm) or whose units see the whole image. */
  rf?: ReceptiveField;
  /** For a transformer's token layer (shape [T, C]): where its tokens lie in the image. */
  tokens?: TokenLayout;
}

/**
 * The tokens of a vision transformer's token layer: `classTokens` tokens without a place in the
 * image, then one token per patch of a grid[0] x grid[1] grid, row by row. A unit is a channel at
 * a patch position [y, x] (token classTokens + y * grid[1] + x).
 */
export interface TokenLayout {
  grid: [number, number];
  classTokens: number;
  /** The input side the grid is laid out for; a position embedding per token fixes it. */
  inputSize: number;
}

/** 'safetensors': a state dict of a built-in architecture (ResNet-18) with the user's weights. */
export type ModelFormat = 'builtin' | 'onnx' | 'keras-h5' | 'tfjs' | 'safetensors';

export interface ModelSummary {
  /** Id every --model option accepts: `builtin:<name>` or the project's model id. */
  id: string;
  name: string;
  format: ModelFormat;
  /** For imported models: the file it came from. */
  source?: string;
  inputConvention: InputConvention;
  layerCount: number;
  /** Weights re-initialized with a fixed seed (random-weights control). */
  randomWeightsSeed?: number;
  /** The file did not say its input convention: a default was filled in that the user should check. */
  conventionGuessed?: boolean;
}

export interface ModelDetail extends ModelSummary {
  layers: LayerInfo[];
}

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface RunProgress {
  step: number;
  total: number;
  /** Seconds until done, from the pace so far; null until it can be estimated. */
  etaSeconds: number | null;
  message?: string;
}

export interface RunSummary {
  id: number;
  kind: string;
  title: string;
  modelId: string;
  status: RunStatus;
  seed: number;
  settings: unknown;
  backend: string | null;
  appVersion: string;
  progress: RunProgress;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Number of results stored so far (finished parts of the run). */
  resultCount: number;
}

export interface ResultRecord {
  id: number;
  runId: number;
  /** What the result is about, e.g. `layer/channel/y/x` for a unit, or `summary`. */
  key: string;
  /** Numbers and small arrays; images are referenced by id. */
  data: Record<string, unknown>;
  imageIds: number[];
}

export interface BackendInfo {
  /** The tfjs backend in use: webgpu, tensorflow (tfjs-node or tfjs-node-gpu), wasm or cpu. */
  name: string;
  /** The package that provides it. */
  package: string;
  gpu: boolean;
  /** Backends tried before this one, with why each was passed over. */
  skipped: { package: string; reason: string }[];
  tfjsVersion: string;
  /** What was asked for: auto, or the backend named by --backend / ARTIPHYS_BACKEND. */
  requested?: string;
  /** Why this backend runs, in words. */
  reason?: string;
  /** The WebGPU adapter the webgpu backend runs on. */
  adapter?: GpuAdapterInfo;
}

/** A WebGPU adapter as Dawn describes it. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasterizer (llvmpipe/lavapipe, SwiftShader, WARP): never chosen automatically. */
  software: boolean;
}

/** One shared library tfjs-node-gpu's libtensorflow opens, and whether the dynamic linker finds it. */
export interface CudaLibrary {
  library: string;
  found: boolean;
  /** The linker's message where it was not found or did not load. */
  detail?: string;
}

/** What `artiphys doctor` learns from the engine beyond the backend it chose. */
export interface BackendDiagnostics {
  /** WebGPU adapters Dawn offers (empty where the webgpu package or a Vulkan/Metal/D3D12 driver is missing). */
  adapters: GpuAdapterInfo[];
  adapterError: string | null;
  /** The CUDA/cuDNN libraries tfjs-node-gpu needs (Linux only). */
  cuda: CudaLibrary[];
  /** "missing libcudart.so.11.0, ..." where tfjs-node-gpu cannot use the GPU for lack of them. */
  cudaSummary: string | null;
}

/** One downloadable file of the model zoo (resources/zoo/manifest.json). */
export interface ZooEntry {
  /** Id used by `artiphys models download <name>`. */
  name: string;
  title: string;
  format: ModelFormat;
  url: string;
  /** Name of the file in the user's models folder. */
  fileName: string;
  /** Exact size in bytes where the publisher states it; else null and the server's length is used. */
  sizeBytes: number | null;
  /** Size as published, in MB, for display when the exact size is not known. */
  approxSizeMB: number | null;
  /** Checksum the publisher gives, with its algorithm (Keras publishes MD5). */
  checksum: { algorithm: 'sha256' | 'md5'; value: string };
  /** The convention the weights were trained with (filled in on import). */
  inputConvention: InputConvention;
  /** Where the URL and checksum were read. */
  provenance: string;
}

export interface ZooListing extends ZooEntry {
  /** Where the file is (or will be) in the user's models folder. */
  path: string;
  downloaded: boolean;
}

export interface ZooProgress {
  bytes: number;
  /** Bytes expected; null when neither the manifest nor the server says. */
  total: number | null;
  etaSeconds: number | null;
}
