// Receptive field of every computed tensor, propagated through the plan with the pure per-axis
// arithmetic of shared/math/receptive-field (METHODS §1). Pads that depend on the input size
// (auto_pad SAME) are resolved at the size the shapes were inferred for.
import {
  PIXEL_RF,
  mergeRFs,
  throughPad,
  throughTransposedWindow,
  throughWindow,
  type AxisRF,
} from '../../../shared/math/receptive-field';
import { OPS } from './ops';
import type { GraphNode } from './ir';
import { dataOutputs, nodeContext, type Plan } from './plan';

export interface PlanarRF {
  y: AxisRF;
  x: AxisRF;
}

/** An RF with the logical axes its tensor keeps H and W in. */
interface Placed {
  rf: PlanarRF;
  spatial: readonly [number, number];
}

/** H and W are the last two axes: [N, C, H, W], or [N, H, W] for one channel picked out. */
const isStandard = (spatial: readonly [number, number], rank: number) => spatial[0] === rank - 2 && spatial[1] === rank - 1;

/** RF per tensor; null for tensors without spatial layout or whose units see the whole image. */
export function receptiveFields(plan: Plan, shapes: ReadonlyMap<string, readonly number[]>): Map<string, PlanarRF | null> {
  const placed = new Map<string, Placed | null>([[plan.input, { rf: { y: PIXEL_RF, x: PIXEL_RF }, spatial: [2, 3] }]]);
  for (const node of plan.nodes) {
    const p = nodeRF(plan, node, shapes, placed);
    for (const out of dataOutputs(node)) placed.set(out, p);
  }
  // Units of a permuted map are not channels at positions: such tensors report none.
  return new Map([...placed].map(([name, p]) => [name, p && isStandard(p.spatial, shapes.get(name)!.length) ? p.rf : null]));
}

/** The RF of a node's outputs (all alike: a multi-output op splits along channels or not at all). */
function nodeRF(plan: Plan, node: GraphNode, shapes: ReadonlyMap<string, readonly number[]>, placed: ReadonlyMap<string, Placed | null>): Placed | null {
  // Constants have no receptive field; a computed input without one makes the output global.
  const computed = node.inputs.filter((i) => i && !plan.constants.has(i) && !plan.folding.sources.has(i));
  const ins = computed.map((i) => placed.get(i) ?? null);
  // Rank 3 carries an RF only as [N, H, W], one channel picked out (GoogLeNet's transform_input):
  // only the ops that make such a tensor from a rank-4 one give it an RF, and ops on it keep it
  // only where they act per position.
  const rank = shapes.get(node.outputs[0])?.length;
  if ((rank !== 4 && rank !== 3) || ins.length === 0 || ins.some((r) => r === null)) return null;
  const spatial = ins[0]!.spatial;
  if (ins.some((p) => p!.spatial[0] !== spatial[0] || p!.spatial[1] !== spatial[1])) return null;
  const src = ins.map((p) => p!.rf);
  const ctx = nodeContext(plan, node, shapes);
  const standard = isStandard(spatial, shapes.get(computed[0])!.length);
  const step = standard ? OPS[node.op].rf(ctx) : (OPS[node.op].rfPermuted?.(ctx, spatial) ?? { kind: 'global' });
  const out = (rf: PlanarRF): Placed => ({ rf, spatial: standard ? [rank - 2, rank - 1] : spatial });
  switch (step.kind) {
    case 'pointwise':
      return out(src.length === 1 ? src[0] : { y: mergeRFs(src.map((r) => r.y)), x: mergeRFs(src.map((r) => r.x)) });
    case 'window':
      return out({ y: throughWindow(src[0].y, step.y), x: throughWindow(src[0].x, step.x) });
    case 'transposed-window':
      return out({ y: throughTransposedWindow(src[0].y, step.y), x: throughTransposedWindow(src[0].x, step.x) });
    case 'pad':
      return out({ y: throughPad(src[0].y, step.y), x: throughPad(src[0].x, step.x) });
    case 'permute':
      return { rf: src[0], spatial: [step.perm.indexOf(spatial[0]), step.perm.indexOf(spatial[1])] };
    case 'global':
      return null;
  }
}
