// What `artiphys run <kind> --flags` asks the workbench for. A few kinds are names for another
// kind with settings fixed, and a few flags are short names for a kind's settings. A flag that is
// no setting of the kind (a typo such as --stepz) is refused, naming it, before anything runs.
import { ApiError } from '../../shared/api/contract';
import { ANALYSES, isAnalysisKind } from '../../shared/analyses/registry';

interface KindAlias {
  kind: string;
  settings: Record<string, unknown>;
}

/** `run indices`: SI and LC are measured on the diverse sweep's lambda* templates, so it is that run with the indices on. */
const KIND_ALIASES: Record<string, KindAlias> = {
  indices: { kind: 'diverse', settings: { indices: true } },
};

/** Short flag names per kind: `--steps` for the optimizer's step limit, `--unit` for the one channel max-image drives. */
const SETTING_ALIASES: Record<string, Record<string, string>> = {
  diverse: { steps: 'maxSteps' },
  'max-image': { unit: 'channel' },
};

export function runRequest(kind: string, flagSettings: Record<string, unknown>): { kind: string; settings: Record<string, unknown> } {
  const alias = KIND_ALIASES[kind];
  const target = alias?.kind ?? kind;
  if (!isAnalysisKind(target)) {
    throw new ApiError('bad_request', `unknown analysis "${kind}"; known: ${[...Object.keys(ANALYSES), ...Object.keys(KIND_ALIASES)].join(', ')}`);
  }
  const names = SETTING_ALIASES[target] ?? {};
  const known = new Set(Object.keys(ANALYSES[target].settings.shape));
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flagSettings)) {
    const key = names[name] ?? name;
    if (key !== name && key in flagSettings) throw new ApiError('bad_request', `--${kebab(name)} and its long name are both given; use one`);
    if (!known.has(key)) throw new ApiError('bad_request', unknownFlag(kind, name, [...known, ...Object.keys(names)]));
    settings[key] = value;
  }
  return { kind: target, settings: { ...settings, ...alias?.settings } };
}

/** `--modelId` is typed `--model`, `maxSteps` is `--max-steps`. */
function kebab(key: string): string {
  return key === 'modelId' ? 'model' : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function unknownFlag(kind: string, name: string, known: string[]): string {
  const flag = kebab(name);
  const flags = [...new Set(known.map(kebab))];
  const near = flags.map((f) => ({ f, d: editDistance(flag, f) })).sort((a, b) => a.d - b.d)[0];
  const hint = near && near.d <= Math.max(2, Math.floor(flag.length / 3)) ? `did you mean --${near.f}? ` : '';
  return `unknown option --${flag} for "run ${kind}"; ${hint}its options: ${flags.map((f) => `--${f}`).join(' ')}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

export { isDetailResult } from './result-keys';
