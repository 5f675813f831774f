// What holds a heap: retained sizes from a V8 heap snapshot (the dominator tree), largest first, each
// with the field and the object that holds it. A profiling tool, not a benchmark: how the RSS at
// rest with 100,000 open incidents was taken apart (docs/performance.md, "Delivery path").
//
//   node --max-old-space-size=8000 bench/heap-dominators.mjs <file.heapsnapshot> [min MB] [rows]
//
// A snapshot of a running sidecar: start it with `--heapsnapshot-signal=SIGUSR2` (for the benchmarks,
// `BENCH_CHILD_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>"`) and send it SIGUSR2.
// Dominators by Cooper, Harvey and Kennedy's iterative algorithm ("A Simple, Fast Dominance
// Algorithm"); weak edges do not retain.
import { readFileSync } from 'node:fs';

const [file, minMb = '1', rows = '40'] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/heap-dominators.mjs <file.heapsnapshot> [min MB] [rows]');
  process.exit(2);
}
const snapshot = JSON.parse(readFileSync(file, 'utf8'));
const meta = snapshot.snapshot.meta;
const [nodeTypes] = meta.node_types;
const [edgeTypes] = meta.edge_types;
const N = meta.node_fields.length;
const E = meta.edge_fields.length;
const { nodes, edges, strings } = snapshot;
const TYPE = meta.node_fields.indexOf('type');
const NAME = meta.node_fields.indexOf('name');
const SELF = meta.node_fields.indexOf('self_size');
const EDGE_COUNT = meta.node_fields.indexOf('edge_count');
const EDGE_TYPE = meta.edge_fields.indexOf('type');
const EDGE_NAME = meta.edge_fields.indexOf('name_or_index');
const TO = meta.edge_fields.indexOf('to_node');
const WEAK = edgeTypes.indexOf('weak');
const count = nodes.length / N;

// Each node's first edge (edges are stored in node order).
const firstEdge = new Uint32Array(count + 1);
for (let n = 0, e = 0; n < count; n++) {
  firstEdge[n] = e;
  e += nodes[n * N + EDGE_COUNT];
}
firstEdge[count] = edges.length / E;
const target = (e) => edges[e * E + TO] / N;
const strong = (e) => edges[e * E + EDGE_TYPE] !== WEAK;

// Post-order from the root (node 0), iteratively.
const reached = new Uint8Array(count);
const postOrder = [];
const cursor = new Uint32Array(count);
const stack = [0];
reached[0] = 1;
while (stack.length > 0) {
  const n = stack[stack.length - 1];
  const e = firstEdge[n] + cursor[n];
  if (e < firstEdge[n + 1]) {
    cursor[n]++;
    const to = target(e);
    if (strong(e) && !reached[to]) {
      reached[to] = 1;
      stack.push(to);
    }
  } else {
    stack.pop();
    postOrder.push(n);
  }
}
const rank = new Int32Array(count).fill(-1);
postOrder.forEach((n, i) => (rank[n] = i));

// Predecessors of every reached node.
const predStart = new Uint32Array(count + 1);
for (let n = 0; n < count; n++)
  if (reached[n])
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) if (strong(e)) predStart[target(e) + 1]++;
for (let n = 0; n < count; n++) predStart[n + 1] += predStart[n];
const preds = new Uint32Array(predStart[count]);
const fill = predStart.slice();
for (let n = 0; n < count; n++)
  if (reached[n])
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) if (strong(e)) preds[fill[target(e)]++] = n;

const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a, b) => {
  while (a !== b) {
    while (rank[a] < rank[b]) a = idom[a];
    while (rank[b] < rank[a]) b = idom[b];
  }
  return a;
};
for (let changed = true; changed;) {
  changed = false;
  for (let i = postOrder.length - 1; i >= 0; i--) {
    const n = postOrder[i];
    if (n === 0) continue;
    let dom = -1;
    for (let p = predStart[n]; p < predStart[n + 1]; p++) {
      const pred = preds[p];
      if (idom[pred] !== -1) dom = dom === -1 ? pred : intersect(pred, dom);
    }
    if (dom !== -1 && idom[n] !== dom) {
      idom[n] = dom;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (const n of postOrder) {
  retained[n] += nodes[n * N + SELF];
  if (n !== 0) retained[idom[n]] += retained[n];
}

const label = (n) => `${nodeTypes[nodes[n * N + TYPE]]}:${String(strings[nodes[n * N + NAME]]).slice(0, 40)}`;
const field = (holder, n) => {
  for (let e = firstEdge[holder]; e < firstEdge[holder + 1]; e++) {
    if (target(e) !== n) continue;
    const type = edgeTypes[edges[e * E + EDGE_TYPE]];
    const name = edges[e * E + EDGE_NAME];
    return type === 'element' || type === 'hidden' ? `[${name}]` : strings[name];
  }
  return '?';
};
console.log(`heap ${(retained[0] / 2 ** 20).toFixed(1)} MB; retained sizes (MB), holder after "<-"`);
const big = [];
for (let n = 1; n < count; n++) if (reached[n] && retained[n] >= Number(minMb) * 2 ** 20) big.push(n);
big.sort((a, b) => retained[b] - retained[a]);
for (const n of big.slice(0, Number(rows))) {
  const holder = idom[n];
  console.log(
    `${(retained[n] / 2 ** 20).toFixed(2).padStart(8)}  ${label(n)}  <- ${field(holder, n)} of ${label(holder)}`,
  );
}
