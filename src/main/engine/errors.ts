// Errors a model file can cause. Everything wrong with a file (bad bytes, bad graph, an operator
// the engine cannot run) is a ModelFormatError, so callers can tell "this file is unusable" apart
// from engine bugs, and the message always says which file, node or tensor is at fault.

export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
}
