// Random-weights control (METHODS §2): the same plan with conv / dense weights drawn from He
// normal N(0, 2 / fan_in) by a seeded generator, biases 0, batch norms reset to the identity
// (mean 0, var 1, gamma 1, beta 0), layer norms likewise (scale 1, bias 0). Everything else
// (shapes, pads, graph constants) is kept.
import { gaussian, mulberry32 } from '../../../shared/math/random';
import { intAttr } from './attrs';
import type { ConstTensor } from './ir';
import type { Plan } from './plan';

type Role = { kind: 'weight'; fanIn: number } | { kind: 'fill'; value: number };

/** What each constant is to the node that uses it, for the nodes whose weights are learned. */
function roles(plan: Plan): Map<string, Role> {
  const out = new Map<string, Role>();
  const set = (name: string | undefined, role: Role) => {
    if (name && plan.constants.get(name)?.dtype === 'float32' && !out.has(name)) out.set(name, role);
  };
  const shape = (name: string | undefined) => (name ? (plan.constants.get(name)?.shape ?? []) : []);
  for (const node of plan.nodes) {
    const [, w, b, m, v] = node.inputs;
    switch (node.op) {
      case 'Conv':
      case 'ConvTranspose': {
        // [O, I/G, kh, kw] (transposed: [I, O/G, kh, kw]): fan-in is dims 1..3 as PyTorch counts it.
        const s = shape(w);
        set(w, { kind: 'weight', fanIn: s.slice(1).reduce((a, d) => a * d, 1) });
        set(b, { kind: 'fill', value: 0 });
        break;
      }
      case 'Gemm': {
        const s = shape(w);
        if (s.length === 2) set(w, { kind: 'weight', fanIn: intAttr(node, 'transB', 0) ? s[1] : s[0] });
        set(b, { kind: 'fill', value: 0 });
        break;
      }
      case 'MatMul': {
        const s = shape(w);
        if (s.length === 2) set(w, { kind: 'weight', fanIn: s[0] });
        break;
      }
      case 'BatchNormalization':
        set(w, { kind: 'fill', value: 1 });
        set(b, { kind: 'fill', value: 0 });
        set(m, { kind: 'fill', value: 0 });
        set(v, { kind: 'fill', value: 1 });
        break;
      case 'LayerNormalization':
        set(w, { kind: 'fill', value: 1 });
        set(b, { kind: 'fill', value: 0 });
        break;
    }
  }
  return out;
}

export function randomizedPlan(plan: Plan, seed: number): Plan {
  const rand = mulberry32(seed);
  const gauss = () => gaussian(rand);
  const constants = new Map<string, ConstTensor>(plan.constants);
  // Plan order makes the draw sequence, and so the weights, a function of the seed alone.
  for (const [name, role] of roles(plan)) {
    const c = plan.constants.get(name)!;
    const data = new Float32Array(c.data.length);
    if (role.kind === 'fill') data.fill(role.value);
    else {
      const std = Math.sqrt(2 / Math.max(1, role.fanIn));
      for (let i = 0; i < data.length; i++) data[i] = gauss() * std;
    }
    constants.set(name, { name, shape: c.shape, dtype: 'float32', data });
  }
  return { ...plan, constants };
}
