// Residual blocks found in a network's graph (METHODS §7): an Add node with two image inputs, one
// of them a residual branch that ends in a BatchNormalization, the other the skip path. When both
// end in a batch norm (a first block with a projection shortcut), the skip is the shorter path
// back to where the two paths split. For each block the three layers In, Pre and Post are named,
// with the before/after-ReLU variants where the graph has them.
import type { GraphNodeInfo, NetworkModel } from '../model';

export interface ResidualBlock {
  /** e.g. `layer2.0` (the Add's path in the graph), or `block-<i>` for unnamed graphs. */
  name: string;
  /** The block's input on the skip path: after the previous block's ReLU (or the shortcut branch). */
  inAfterRelu: string;
  /** The same before that ReLU (the previous Add), or null when there is no such distinction. */
  inBeforeRelu: string | null;
  /** The residual branch's last batch norm. */
  pre: string;
  /** The sum (the Add output). */
  postBeforeRelu: string;
  /** The ReLU applied to the sum, or null when none follows. */
  postAfterRelu: string | null;
  channels: number;
}

export type ReluChoice = 'before' | 'after';
export type BlockRole = 'in' | 'pre' | 'post';

export function roleLayer(b: ResidualBlock, role: BlockRole, relu: { in: ReluChoice; post: ReluChoice }): string {
  if (role === 'pre') return b.pre;
  if (role === 'in') return relu.in === 'before' && b.inBeforeRelu ? b.inBeforeRelu : b.inAfterRelu;
  return relu.post === 'after' && b.postAfterRelu ? b.postAfterRelu : b.postBeforeRelu;
}

/** Shortest distance (in nodes) from `start` back to every ancestor tensor. */
function ancestorDistances(start: string, producer: ReadonlyMap<string, GraphNodeInfo>): Map<string, number> {
  const dist = new Map([[start, 0]]);
  const queue = [start];
  while (queue.length) {
    const t = queue.shift()!;
    for (const i of producer.get(t)?.inputs ?? []) {
      if (dist.has(i)) continue;
      dist.set(i, dist.get(t)! + 1);
      queue.push(i);
    }
  }
  return dist;
}

export function findResidualBlocks(model: NetworkModel): ResidualBlock[] {
  if (!model.graphNodes) throw new Error(`model ${model.name} exposes no graph; residual blocks can only be found in graph models`);
  const nodes = model.graphNodes();
  const producer = new Map(nodes.map((n) => [n.output, n]));
  const consumers = new Map<string, GraphNodeInfo[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const channelsOf = (t: string) => model.layers.find((l) => l.name === t)?.shape.at(-1) ?? 0;
  const blocks: ResidualBlock[] = [];
  for (const add of nodes) {
    if ((add.op !== 'Add' && add.op !== 'Sum') || add.inputs.length !== 2) continue;
    const [a, b] = add.inputs;
    const isBn = (t: string) => producer.get(t)?.op === 'BatchNormalization';
    if (!isBn(a) && !isBn(b)) continue;
    let skip: string;
    let branch: string;
    if (isBn(a) !== isBn(b)) {
      [branch, skip] = isBn(a) ? [a, b] : [b, a];
    } else {
      const da = ancestorDistances(a, producer);
      const db = ancestorDistances(b, producer);
      let best: [number, number] = [Infinity, Infinity];
      for (const [t, d] of da) {
        const e = db.get(t);
        if (e !== undefined && d + e < best[0] + best[1]) best = [d, e];
      }
      [skip, branch] = best[0] <= best[1] ? [a, b] : [b, a];
    }
    const skipProducer = producer.get(skip);
    const beforeRelu = skipProducer?.op === 'Relu' && producer.get(skipProducer.inputs[0])?.op === 'Add' ? skipProducer.inputs[0] : null;
    const relu = (consumers.get(add.output) ?? []).find((n) => n.op === 'Relu');
    const path = add.output.split('/').filter(Boolean);
    const name = path.length >= 2 ? path[path.length - 2] : `block-${blocks.length}`;
    blocks.push({
      name,
      inAfterRelu: skip,
      inBeforeRelu: beforeRelu,
      pre: branch,
      postBeforeRelu: add.output,
      postAfterRelu: relu?.output ?? null,
      channels: channelsOf(add.output),
    });
  }
  return blocks;
}

export function findBlock(model: NetworkModel, name: string): ResidualBlock {
  const blocks = findResidualBlocks(model);
  const b = blocks.find((x) => x.name === name);
  if (!b) throw new Error(`model ${model.name} has no residual block "${name}"; blocks: ${blocks.map((x) => x.name).join(', ') || 'none'}`);
  return b;
}
