// Messages between the service (which owns the project database) and the engine process.
import type { BackendDiagnostics, BackendInfo, InputConvention, LayerInfo, ModelFormat, RunProgress } from '../../shared/domain';
import type { ResidualBlock } from './residual/blocks';

export interface ModelRef {
  /** File the model is loaded from. */
  path: string;
  /** The convention stored with the model in the project (the user may have edited it). */
  inputConvention: InputConvention;
  randomWeightsSeed?: number;
}

export type ToEngine =
  /** `diagnose`: also list GPU adapters and CUDA libraries (doctor). */
  | { type: 'init'; backend?: string; diagnose?: boolean }
  | {
      type: 'run';
      runId: number;
      kind: string;
      settings: Record<string, unknown>;
      seed: number;
      resumeFrom: unknown | null;
      /** Project models the run may load, by id. */
      models: Record<string, ModelRef>;
    }
  | { type: 'cancel'; runId: number }
  /** Reads a model file and reports its format, convention and layers (for import and inspect). */
  | { type: 'inspect'; requestId: number; path: string };

export interface EngineImage {
  name: string;
  width: number;
  height: number;
  png: Uint8Array;
}

export interface InspectedModel {
  format: ModelFormat;
  name: string;
  inputConvention: InputConvention;
  /** True when the file did not say its convention and a default was filled in. */
  conventionGuessed: boolean;
  layers: LayerInfo[];
  /** Residual blocks of the graph (METHODS §7), in order; empty for networks without any. */
  blocks: ResidualBlock[];
}

export type FromEngine =
  | { type: 'ready'; backend: BackendInfo; diagnostics?: BackendDiagnostics }
  | { type: 'init-failed'; error: string; diagnostics?: BackendDiagnostics }
  | { type: 'progress'; runId: number; progress: RunProgress }
  | { type: 'result'; runId: number; key: string; data: Record<string, unknown>; images: EngineImage[] }
  | { type: 'checkpoint'; runId: number; state: unknown }
  | { type: 'log'; runId: number; message: string }
  | { type: 'inspected'; requestId: number; model?: InspectedModel; error?: string }
  | { type: 'finished'; runId: number; status: 'done' | 'failed' | 'cancelled'; error?: string; computeSeconds: number };
