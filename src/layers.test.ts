/**
 * Issue 12: layers without cycles. Each top-level folder of src/ is a layer; an import
 * (static, type-only or dynamic) from one folder to another is an edge. This fails on any
 * cycle between folders, and on the two edges the design forbids outright: the agent each
 * member installs (`privacy/`) reaching into the warehouse, and the server importing the CLI.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const IMPORT = /(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [file] : [];
  });
}

const layerOf = (file: string): string => {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 ? (parts[0] as string) : '(root)';
};

/** layer → the layers it imports, with one file that does, for the message */
function layerGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), (match[1] ?? match[2]) as string);
      if (!target.startsWith(SRC)) continue;
      const to = layerOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, path.relative(SRC, file));
    }
  }
  return graph;
}

/** Every cycle's layers (Tarjan's strongly connected components of more than one layer). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v) ?? 0, order.get(w) ?? 0));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) component.push(w);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

describe('layers', () => {
  const graph = layerGraph();

  it('have no cycle between top-level folders', () => {
    const found = cycles(graph).map((layers) =>
      layers.map(
        (a) =>
          `${a} → ${[...(graph.get(a)?.keys() ?? [])].filter((b) => layers.includes(b)).join(', ')} (${[
            ...(graph.get(a)?.entries() ?? []),
          ]
            .filter(([b]) => layers.includes(b))
            .map(([, f]) => f)
            .join(', ')})`,
      ),
    );
    expect(found).toEqual([]);
  });

  it('keep the agent free of the warehouse, and the server free of the CLI', () => {
    // what a member installs: its specification, its CSV handling, its keys; nothing that
    // loads, stores, serves or governs
    const agent = [...(graph.get('privacy')?.keys() ?? [])].sort();
    expect(agent.filter((to) => !['(root)', 'catalogue', 'files'].includes(to))).toEqual([]);
    expect(graph.get('server')?.has('cli')).toBe(false);
  });

  it('would find a cycle', () => {
    const made = new Map([
      ['a', new Map([['b', 'a/x.ts']])],
      ['b', new Map([['c', 'b/y.ts']])],
      ['c', new Map([['a', 'c/z.ts']])],
      ['d', new Map([['a', 'd/w.ts']])],
    ]);
    expect(cycles(made)).toEqual([['a', 'b', 'c']]);
  });
});
