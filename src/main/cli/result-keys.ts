// Which result keys the CLI's text output counts rather than lists.

/** Per-lambda results (`.../lambda/<i>`) are details: the text output counts them instead of listing each. */
export function isDetailResult(key: string): boolean {
  return /\/lambda\/\d+$/.test(key);
}
