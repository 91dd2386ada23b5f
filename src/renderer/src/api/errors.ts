// The renderer's view of a failed call. The contract's ApiError lives beside the zod schemas,
// which the renderer does not load (zod probes eval, which our CSP forbids).
import type { ApiErrorCode } from '../../../shared/api/contract';

export type CallErrorCode = ApiErrorCode | 'network';

export class CallError extends Error {
  constructor(
    readonly code: CallErrorCode,
    message: string,
    readonly method?: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** A message fit for the user, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof CallError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
