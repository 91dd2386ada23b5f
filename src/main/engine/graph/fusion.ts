// Conv → BatchNormalization → Relu chains (and Conv → Relu), each maybe followed by a max pool
// whose windows tile its input, that can run as one fused conv: the batch norm folded into the
// weights, the ReLU into the kernel, the pool after it. The executor fuses a chain only when the
// tensors inside it are not asked for, so every layer stays addressable.
import type { GraphNode } from './ir';
import { tilingKernel } from './ops/pool';
import type { Plan } from './plan';

/** For each Conv that starts a fusable chain, the chain (Conv first). */
export function convChains(plan: Plan): Map<GraphNode, GraphNode[]> {
  const consumers = new Map<string, GraphNode[]>();
  for (const node of plan.nodes) for (const i of node.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), node]);
  // The one node reading `name` as its data input, if exactly one node reads it at all.
  const soleConsumer = (name: string, op: string): GraphNode | undefined => {
    const c = consumers.get(name);
    return c?.length === 1 && c[0].op === op && c[0].inputs[0] === name && c[0].inputs.indexOf(name, 1) < 0 ? c[0] : undefined;
  };
  const chains = new Map<GraphNode, GraphNode[]>();
  for (const node of plan.nodes) {
    if (node.op !== 'Conv') continue;
    const chain = [node];
    const bn = soleConsumer(node.outputs[0], 'BatchNormalization');
    if (bn) chain.push(bn);
    const relu = soleConsumer(chain[chain.length - 1].outputs[0], 'Relu');
    if (relu) chain.push(relu);
    const pool = relu && soleConsumer(relu.outputs[0], 'MaxPool');
    if (pool && tilingKernel(pool)) chain.push(pool);
    if (chain.length > 1) chains.set(node, chain);
  }
  return chains;
}
