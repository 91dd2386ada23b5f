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
import { nodeContext, type Plan } from './plan';

export interface PlanarRF {
  y: AxisRF;
  x: AxisRF;
}

/** RF per tensor; null for tensors without spatial layout or whose units see the whole image. */
export function receptiveFields(plan: Plan, shapes: ReadonlyMap<string, readonly number[]>): Map<string, PlanarRF | null> {
  const rfs = new Map<string, PlanarRF | null>([[plan.input, { y: PIXEL_RF, x: PIXEL_RF }]]);
  for (const node of plan.nodes) {
    const out = node.outputs[0];
    // Constants have no receptive field; a computed input without one makes the output global.
    const ins = node.inputs.filter((i) => i && !plan.constants.has(i) && !plan.folding.sources.has(i)).map((i) => rfs.get(i) ?? null);
    if (shapes.get(out)?.length !== 4 || ins.length === 0 || ins.some((r) => r === null)) {
      rfs.set(out, null);
      continue;
    }
    const src = ins as PlanarRF[];
    const step = OPS[node.op].rf(nodeContext(plan, node, shapes));
    switch (step.kind) {
      case 'pointwise':
        rfs.set(out, src.length === 1 ? src[0] : { y: mergeRFs(src.map((r) => r.y)), x: mergeRFs(src.map((r) => r.x)) });
        break;
      case 'window':
        rfs.set(out, { y: throughWindow(src[0].y, step.y), x: throughWindow(src[0].x, step.x) });
        break;
      case 'transposed-window':
        rfs.set(out, { y: throughTransposedWindow(src[0].y, step.y), x: throughTransposedWindow(src[0].x, step.x) });
        break;
      case 'pad':
        rfs.set(out, { y: throughPad(src[0].y, step.y), x: throughPad(src[0].x, step.x) });
        break;
      case 'global':
        rfs.set(out, null);
        break;
    }
  }
  return rfs;
}
