// The decision and status types import no circle: the decision reads statuses and the status
// renders decisions, so the types they share live apart (controller/decision-types.ts). Every
// relative import under src/ is read (type imports included) and the strongly connected groups found.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Groups of two or more files that import each other, directly or around a circle (Tarjan). */
function importCircles(
  files: string[],
  read = (f: string) => readFileSync(f, 'utf8'),
  root = src,
): string[][] {
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const text = read(f);
    const to = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gs)]
      .map((m) => resolve(dirname(f), (m[1] as string).replace(/\.js$/, '.ts')))
      .filter((t) => known.has(t));
    edges.set(f, to);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      group.push(relative(root, w));
    } while (w !== v);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return groups;
}

describe('import circles', () => {
  it('finds a circle where there is one, type imports included (the check can fail)', () => {
    const root = '/virtual';
    const files: Record<string, string> = {
      '/virtual/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
      '/virtual/b.ts': "import { c } from './c.js';\nexport type B = string;\n",
      '/virtual/c.ts': "export { a } from './a.js';\nexport const c = 1;\n",
      '/virtual/d.ts': "import { c } from './c.js';\nexport const d = c;\n",
    };
    const circles = importCircles(Object.keys(files), (f) => files[f] as string, root);
    expect(circles).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('no circle through the decision or the status types', () => {
    const watched = [
      'controller/decision.ts',
      'controller/status.ts',
      'engines/types.ts',
      'engines/status.ts',
    ];
    const circles = importCircles(sourceFiles(src)).filter((g) => g.some((f) => watched.includes(f)));
    expect(circles).toEqual([]);
  });
});
