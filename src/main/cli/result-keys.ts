// Which result keys the CLI's text output counts rather than lists.
import { diverseResults } from '../../shared/analyses/diverse';
import { parseResultKey } from '../../shared/analyses/result-contract';

/** Per-lambda results of a diverse run are details: the text output counts them instead of listing each. */
export function isDetailResult(key: string): boolean {
  return parseResultKey(diverseResults, key)?.part === 'lambda';
}
