// The shape every analysis has on the engine side: settings in, results and progress out.
// The engine never touches the project database; the service that owns it stores what a run
// emits, so a crash of the engine loses at most the work since the last emitted result.
import type { NetworkModel } from './model';

/** An image a run stores: 8-bit RGB, row-major HWC. */
export interface ImageOut {
  /** Short role name, e.g. `lambda-0.04/img-3`. */
  name: string;
  width: number;
  height: number;
  rgb: Uint8Array;
}

export interface RunContext {
  readonly runId: number;
  readonly seed: number;
  /** True once the user cancelled; runs check it between steps and return early. */
  readonly cancelled: () => boolean;
  progress(step: number, total: number, message?: string): void;
  /** Stores one finished part of the run; it stays usable if the run later fails or is cancelled. */
  emitResult(key: string, data: Record<string, unknown>, images?: ImageOut[]): void;
  /** Saves what is needed to resume; a restarted run receives the latest one as `resumeFrom`. */
  checkpoint(state: unknown): void;
  readonly resumeFrom: unknown | null;
  /** Loads a model by id (`builtin:...`, a project model id, or a file path). */
  loadModel(id: string): Promise<NetworkModel>;
  log(message: string): void;
}

export interface EngineAnalysis<S = unknown> {
  readonly kind: string;
  run(settings: S, ctx: RunContext): Promise<void>;
}

/**
 * Lets the engine's event loop deliver messages (a cancel, above all). Runs are synchronous tensor
 * work between awaits, so they call this between optimization steps.
 */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
