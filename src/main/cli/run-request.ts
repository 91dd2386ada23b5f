// What `artiphys run <kind> --flags` asks the workbench for. A few kinds are names for another
// kind with settings fixed, and a few flags are short names for a kind's settings.

interface KindAlias {
  kind: string;
  settings: Record<string, unknown>;
}

/** `run indices`: SI and LC are measured on the diverse sweep's lambda* templates, so it is that run with the indices on. */
const KIND_ALIASES: Record<string, KindAlias> = {
  indices: { kind: 'diverse', settings: { indices: true } },
};

/** Short flag names per kind: `--steps` for the optimizer's step limit. */
const SETTING_ALIASES: Record<string, Record<string, string>> = {
  diverse: { steps: 'maxSteps' },
};

export function runRequest(kind: string, flagSettings: Record<string, unknown>): { kind: string; settings: Record<string, unknown> } {
  const alias = KIND_ALIASES[kind];
  const target = alias?.kind ?? kind;
  const names = SETTING_ALIASES[target] ?? {};
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flagSettings)) {
    const key = names[name] ?? name;
    if (key !== name && key in flagSettings) throw new Error(`--${name} and its long name are both given; use one`);
    settings[key] = value;
  }
  return { kind: target, settings: { ...settings, ...alias?.settings } };
}

/** Per-lambda results (`.../lambda/<i>`) are details: the text output counts them instead of listing each. */
export function isDetailResult(key: string): boolean {
  return /\/lambda\/\d+$/.test(key);
}
