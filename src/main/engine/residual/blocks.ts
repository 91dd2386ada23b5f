// Residual blocks found in a network's graph (METHODS §7): an Add node whose two inputs have the
// same shape and split from one tensor earlier in the graph. Of the two paths back to the split,
// the shorter is the skip (nothing for an identity shortcut, the downsample conv and batch norm of
// a projection shortcut) and the longer the residual branch. The branch is found by the graph's
// shape alone, not by its ops, so exports whose batch norms are folded into the convolutions
// (PyTorch's classic exporter) have the same blocks as unfused ones. For each block the three
// layers In, Pre and Post are named, with the before/after-ReLU variants where the graph has them.
import type { LayerInfo } from '../../../shared/domain';
import type { GraphNodeInfo, NetworkModel } from '../model';

export interface ResidualBlock {
  /** e.g. `layer2.0` (the Add's path in the graph), or `block-<i>` for unnamed graphs. */
  name: string;
  /** The block's input on the skip path: after the previous block's ReLU (or the shortcut branch). */
  inAfterRelu: string;
  /** The same before that ReLU (the previous Add), or null when there is no such distinction. */
  inBeforeRelu: string | null;
  /** The residual branch's output: its last batch norm, or the conv that batch norm was folded into. */
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
  for (let next = 0; next < queue.length; next++) {
    const t = queue[next];
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
  return residualBlocksOf(model.graphNodes(), model.layers);
}

/** The residual blocks of a graph given as its image-dependent nodes and layers (in execution order). */
export function residualBlocksOf(nodes: readonly GraphNodeInfo[], layers: readonly LayerInfo[]): ResidualBlock[] {
  const producer = new Map(nodes.map((n) => [n.output, n]));
  const consumers = new Map<string, GraphNodeInfo[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const shapes = new Map(layers.map((l) => [l.name, l.shape]));
  const sameShape = (a: string, b: string) => shapes.get(a)?.join() === shapes.get(b)?.join();
  const blocks: ResidualBlock[] = [];
  const names = new Set<string>();
  for (const add of nodes) {
    if ((add.op !== 'Add' && add.op !== 'Sum') || add.inputs.length !== 2) continue;
    const [a, b] = add.inputs;
    if (a === b || !sameShape(a, b)) continue;
    // The split: the common ancestor nearest to the Add (an identity skip is itself that ancestor).
    const da = ancestorDistances(a, producer);
    const db = ancestorDistances(b, producer);
    let best: [number, number] = [Infinity, Infinity];
    for (const [t, d] of da) {
      const e = db.get(t);
      if (e !== undefined && d + e < best[0] + best[1]) best = [d, e];
    }
    if (best[0] === Infinity) continue;
    const [skip, branch] = best[0] <= best[1] ? [a, b] : [b, a];
    const skipProducer = producer.get(skip);
    const beforeRelu = skipProducer?.op === 'Relu' && producer.get(skipProducer.inputs[0])?.op === 'Add' ? skipProducer.inputs[0] : null;
    const relu = (consumers.get(add.output) ?? []).find((n) => n.op === 'Relu');
    const name = blockName(add.output, names, blocks.length);
    names.add(name);
    blocks.push({
      name,
      inAfterRelu: skip,
      inBeforeRelu: beforeRelu,
      pre: branch,
      postBeforeRelu: add.output,
      postAfterRelu: relu?.output ?? null,
      channels: shapes.get(add.output)?.at(-1) ?? 0,
    });
  }
  return blocks;
}

/**
 * The scope of the sum as PyTorch's classic exporter writes it (`/layer2/layer2.0/Add_output_0`:
 * `layer2.0`, torchvision's module name); the scope and the sum's own name where a scope holds
 * several sums; `block-<i>` (by order) for graphs without scoped names.
 */
function blockName(sum: string, taken: ReadonlySet<string>, index: number): string {
  const path = sum.split('/').filter(Boolean);
  if (path.length < 2) return `block-${index}`;
  const scope = path[path.length - 2];
  return taken.has(scope) ? `${scope}/${path[path.length - 1].replace(/_output_\d+$/, '')}` : scope;
}

export function findBlock(model: NetworkModel, name: string): ResidualBlock {
  const blocks = findResidualBlocks(model);
  const b = blocks.find((x) => x.name === name);
  if (!b) throw new Error(`model ${model.name} has no residual block "${name}"; blocks: ${blocks.map((x) => x.name).join(', ') || 'none'}`);
  return b;
}
