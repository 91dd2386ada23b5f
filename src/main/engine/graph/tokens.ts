// Token layers of vision transformers: [N, T, C] tensors whose T tokens are class tokens followed
// by the patches of a gh x gw grid, row by row. The patch embedding makes them: a strided Conv
// whose [N, C, gh, gw] map is flattened to [N, C, gh*gw] and transposed to [N, gh*gw, C] (or
// transposed to [N, gh, gw, C] and then flattened), then class tokens are concatenated in front.
//
// A unit of a token layer is a channel at a patch position: positions are the patch grid, the
// class tokens have none (they are not at a place in the image; the class token is addressable
// where the model reads it out, an [N, C] layer). Receptive fields: a patch token sees its
// patch (the embedding conv's RF: 16 x 16 px at stride 16 in ViT-B/16) as long as only per-token
// operations follow (elementwise ops, the position-embedding Add, normalization or softmax over
// channels, a MatMul with a weight matrix). The first operation that mixes tokens (attention's
// token x token products, or the reshapes into attention heads) makes it global, so from the
// first attention block on every token layer sees the whole image and has no RF, as self-attention
// lets each token read every patch.
import type { TokenLayout } from '../../../shared/domain';
import type { GraphNode } from './ir';
import { OPS } from './ops';
import { nodeContext, type Plan } from './plan';
import type { PlanarRF } from './receptive-fields';

export interface TokenLayer {
  tokens: TokenLayout;
  /** The patch's RF while the tokens have only been transformed one by one; null once they mix. */
  rf: PlanarRF | null;
}

/** A spatial map on its way to tokens: [N, C, gh*gw] (channels first) or [N, gh, gw, C] (channels last). */
interface PatchMap {
  grid: [number, number];
  channelsLast: boolean;
  rf: PlanarRF | null;
}

const REDUCTIONS = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceL2']);

const sameShape = (a: readonly number[] | undefined, b: readonly number[]) => a?.length === b.length && a.every((d, i) => d === b[i]);

function permutation(node: GraphNode): number[] {
  const a = node.attrs.perm;
  return a?.kind === 'ints' ? a.value : [];
}

/** Axes an op normalizes or reduces over, from its attribute or (newer opsets) its constant input 1. */
function axesOf(plan: Plan, node: GraphNode): number[] | undefined {
  const a = node.attrs.axes ?? node.attrs.axis;
  if (a?.kind === 'ints') return a.value;
  if (a?.kind === 'int') return [a.value];
  const c = node.inputs[1] ? plan.constants.get(node.inputs[1]) : undefined;
  return c?.dtype === 'int64' ? Array.from(c.data) : undefined;
}

/** True when each output token depends only on the same token of the inputs (and on constants). */
function perToken(plan: Plan, node: GraphNode, shapes: ReadonlyMap<string, readonly number[]>): boolean {
  const onChannels = (axes: number[] | undefined, fallback: number) => (axes ?? [fallback]).every((a) => a === -1 || a === 2);
  switch (node.op) {
    case 'MatMul':
      return plan.constants.has(node.inputs[1]);
    case 'LayerNormalization':
    case 'Softmax':
      return onChannels(axesOf(plan, node), -1);
    default:
      if (REDUCTIONS.has(node.op)) return onChannels(axesOf(plan, node), 0);
      return OPS[node.op]?.rf(nodeContext(plan, node, shapes)).kind === 'pointwise';
  }
}

/**
 * The token layers of a plan, with their layout and RF, for the shapes (logical, NCHW) inferred
 * at one input size and the RFs of the spatial tensors. Pure: looks at shapes and ops only.
 */
export function tokenLayers(
  plan: Plan,
  shapes: ReadonlyMap<string, readonly number[]>,
  rfs: ReadonlyMap<string, PlanarRF | null>,
  inputSize: number,
): Map<string, TokenLayer> {
  const maps = new Map<string, PatchMap>();
  const layers = new Map<string, TokenLayer>();
  /** The token layout each tensor descends from: a rank-3 tensor with as many tokens is laid out so. */
  const lineage = new Map<string, TokenLayout>();
  const batch = shapes.get(plan.input)?.[0];
  for (const node of plan.nodes) {
    const out = node.outputs[0];
    const shape = shapes.get(out);
    const computed = node.inputs.filter((i) => i && shapes.has(i));
    if (!shape || computed.length === 0) continue;
    const x = node.inputs[0];
    const xShape = shapes.get(x);
    const map = maps.get(x);
    // For an NCHW input; a channels-last map reads its grid from the map.
    const [n, c, h, w] = xShape ?? [];
    const tokens = (grid: [number, number], classTokens: number, rf: PlanarRF | null) => {
      layers.set(out, { tokens: { grid, classTokens, inputSize }, rf });
      lineage.set(out, { grid, classTokens, inputSize });
    };
    if (node.op === 'Reshape' && xShape?.length === 4 && !map && sameShape(shape, [n, c, h * w])) {
      maps.set(out, { grid: [h, w], channelsLast: false, rf: rfs.get(x) ?? null });
    } else if (node.op === 'Transpose' && xShape?.length === 4 && !map && permutation(node).join() === '0,2,3,1') {
      maps.set(out, { grid: [h, w], channelsLast: true, rf: rfs.get(x) ?? null });
    } else if (node.op === 'Transpose' && map && !map.channelsLast && permutation(node).join() === '0,2,1') {
      tokens(map.grid, 0, map.rf);
    } else if (node.op === 'Reshape' && map?.channelsLast && sameShape(shape, [n, map.grid[0] * map.grid[1], xShape![3]])) {
      tokens(map.grid, 0, map.rf);
    } else if (node.op === 'Concat' && shape.length === 3 && [1, -2].includes(axesOf(plan, node)?.[0] ?? 0)) {
      // Class tokens (or any tokens without a place) put in front of the patches.
      const k = node.inputs.findIndex((i) => layers.has(i));
      const patches = layers.get(node.inputs[k]);
      if (patches && k === node.inputs.length - 1) {
        const before = node.inputs.slice(0, k).reduce((sum, i) => sum + (shapes.get(i) ?? plan.constants.get(i)?.shape ?? [0, 0])[1], 0);
        tokens(patches.tokens.grid, patches.tokens.classTokens + before, patches.rf);
      }
    } else {
      const from = computed.map((i) => lineage.get(i)).find((l) => l);
      if (!from) continue;
      lineage.set(out, from);
      // [batch, tokens, C] only: attention keeps heads or tokens in the first axis on the way.
      if (shape.length !== 3 || shape[0] !== batch || shape[1] !== from.classTokens + from.grid[0] * from.grid[1]) continue;
      const sources = computed.map((i) => layers.get(i));
      const rf = sources[0]?.rf ?? null;
      const kept = rf !== null && sources.every((s) => s?.rf === rf) && perToken(plan, node, shapes);
      layers.set(out, { tokens: from, rf: kept ? rf : null });
    }
  }
  return layers;
}
