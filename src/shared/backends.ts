// The compute backends the engine knows, in the order `auto` tries them (after `auto` itself).
// Plain data, so the command line can check a --backend value without loading TensorFlow.js.
export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
