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

/** RF per tensor; null for tensors without spatial layout or whose units see the whole image. */
export function receptiveFields(plan: Plan, shapes: ReadonlyMap<string, readonly number[]>): Map<string, PlanarRF | null> {
  const rfs = new Map<string, PlanarRF | null>([[plan.input, { y: PIXEL_RF, x: PIXEL_RF }]]);
  for (const node of plan.nodes) {
    const rf = nodeRF(plan, node, shapes, rfs);
    for (const out of dataOutputs(node)) rfs.set(out, rf);
  }
  return rfs;
}

/** The RF of a node's outputs (all alike: a multi-output op splits along channels or not at all). */
function nodeRF(plan: Plan, node: GraphNode, shapes: ReadonlyMap<string, readonly number[]>, rfs: ReadonlyMap<string, PlanarRF | null>): PlanarRF | null {
  // Constants have no receptive field; a computed input without one makes the output global.
  const ins = node.inputs.filter((i) => i && !plan.constants.has(i)).map((i) => rfs.get(i) ?? null);
  // Rank 3 carries an RF only as [N, H, W], one channel picked out (GoogLeNet's transform_input):
  // only the ops that make such a tensor from a rank-4 one give it an RF, and ops on it keep it
  // only where they act per position.
  const rank = shapes.get(node.outputs[0])?.length;
  if ((rank !== 4 && rank !== 3) || ins.length === 0 || ins.some((r) => r === null)) return null;
  const src = ins as PlanarRF[];
  const step = OPS[node.op].rf(nodeContext(plan, node, shapes));
  switch (step.kind) {
    case 'pointwise':
      return src.length === 1 ? src[0] : { y: mergeRFs(src.map((r) => r.y)), x: mergeRFs(src.map((r) => r.x)) };
    case 'window':
      return { y: throughWindow(src[0].y, step.y), x: throughWindow(src[0].x, step.x) };
    case 'transposed-window':
      return { y: throughTransposedWindow(src[0].y, step.y), x: throughTransposedWindow(src[0].x, step.x) };
    case 'pad':
      return { y: throughPad(src[0].y, step.y), x: throughPad(src[0].x, step.x) };
    case 'global':
      return null;
  }
}
