// The built-in ground-truth cell models (METHODS §3) as the catalog sees them: ids, names and
// layers, without tensors, so every process can list them.
import type { InputConvention, LayerInfo, ModelDetail } from './domain';

export const CELL_KINDS = ['simple-cell', 'energy', 'complex-cell', 'corner'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

const DESCRIPTIONS: Record<CellKind, string> = {
  'simple-cell': 'Simple cell: ReLU of one Gabor filter',
  energy: 'Energy model: quadrature pair, squared and summed (perfect phase invariance)',
  'complex-cell': 'Hubel & Wiesel complex cell: sum of half-squared simple cells of spread phases, one mildly preferred',
  corner: 'Corner detector: a horizontal and a vertical energy-model edge at fixed places',
};

/** Pixels 0..255 map to -1..1; a grey image is the model's zero. Greyscale is the channel mean. */
export const CELL_CONVENTION: InputConvention = {
  channelOrder: 'RGB',
  scale: 255,
  mean: [127.5, 127.5, 127.5],
  std: [127.5, 127.5, 127.5],
  inputSize: 24,
};

export function cellSubunitCount(kind: CellKind, complexSubunits: number): number {
  return { 'simple-cell': 1, energy: 2, 'complex-cell': complexSubunits, corner: 4 }[kind];
}

export function cellLayers(kind: CellKind, rf: number, complexSubunits: number): LayerInfo[] {
  const rfInfo = { size: rf, jump: 1, offset: (rf - 1) / 2 };
  return [
    { name: 'subunits', op: 'Conv', shape: [1, 1, cellSubunitCount(kind, complexSubunits)], rf: rfInfo },
    { name: 'response', op: 'Sum', shape: [1, 1, 1], rf: rfInfo },
  ];
}

export const BUILTIN_PREFIX = 'builtin:';

export function builtinModels(): ModelDetail[] {
  return CELL_KINDS.map((kind) => {
    const layers = cellLayers(kind, 24, 8);
    return {
      id: BUILTIN_PREFIX + kind,
      name: DESCRIPTIONS[kind],
      format: 'builtin',
      inputConvention: CELL_CONVENTION,
      layerCount: layers.length,
      layers,
    };
  });
}

export function builtinKind(modelId: string): CellKind | null {
  if (!modelId.startsWith(BUILTIN_PREFIX)) return null;
  const kind = modelId.slice(BUILTIN_PREFIX.length);
  return (CELL_KINDS as readonly string[]).includes(kind) ? (kind as CellKind) : null;
}
