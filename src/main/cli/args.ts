// Command-line parsing: positional words and --flags. `--name value`, `--name=value`, and bare
// `--name` (true). Analysis settings come from the flags that are not global options.
import { ApiError } from '../../shared/api/errors';
import { MAX_LIST_LENGTH, parseIntList } from '../../shared/analyses/ranges';

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | boolean>;
}

const BOOLEAN_FLAGS = new Set(['json', 'help']);
/** Flags of the CLI itself; every other flag of `run` is an analysis setting. */
const GLOBAL_FLAGS = new Set(['json', 'help', 'project', 'backend', 'seed', 'port', 'host', 'name']);

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    if (eq > 0) flags[name] = a.slice(eq + 1);
    else if (BOOLEAN_FLAGS.has(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags[name] = true;
    else flags[name] = argv[++i];
  }
  return { positional, flags };
}

/**
 * Turns `--layer relu3_1 --units 0-15 --lambdas 0,0.02` into settings: kebab-case names become
 * camelCase, `--model` is `modelId`, numbers become numbers, comma lists become arrays and
 * `a-b` integer ranges expand. The analysis schema then validates the result.
 */
export function settingsFromFlags(flags: Record<string, string | boolean>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(flags)) {
    if (GLOBAL_FLAGS.has(name)) continue;
    const key = name === 'model' ? 'modelId' : name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    settings[key] = typeof raw === 'boolean' ? raw : parseValue(raw);
  }
  return settings;
}


/** Whole numbers and a-b ranges only: `0-15`, `0,3,8-11`. */
const INT_LIST = /^\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*$/;

export function parseValue(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw === 'null') return null;
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(raw)) return Number(raw);
  if (INT_LIST.test(raw)) {
    try {
      return parseIntList(raw);
    } catch (err) {
      throw new ApiError('bad_request', (err as Error).message);
    }
  }
  if (raw.includes(',')) {
    const out: unknown[] = [];
    for (const part of raw.split(',')) {
      const v = parseValue(part.trim());
      if (Array.isArray(v)) out.push(...v);
      else out.push(v);
      if (out.length > MAX_LIST_LENGTH) throw new ApiError('bad_request', `a list holds at most ${MAX_LIST_LENGTH} values`);
    }
    return out;
  }
  return raw;
}
