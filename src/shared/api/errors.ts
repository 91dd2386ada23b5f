// The API's error type, apart from the contract's schemas so that code which only reports errors
// (the command line's argument checks) loads without them.

/** Error codes a client can act on; the message says what happened in words. */
export type ApiErrorCode =
  | 'bad_request'
  | 'unknown_method'
  | 'not_found'
  | 'no_project'
  | 'project_locked'
  | 'project_corrupt'
  | 'project_newer'
  | 'project_readonly'
  | 'bad_model'
  | 'engine_unavailable'
  | 'unreachable'
  | 'checksum_mismatch'
  | 'unauthorized'
  | 'internal';

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
