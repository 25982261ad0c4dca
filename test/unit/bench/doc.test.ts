// How `npm run bench` rewrites docs/benchmarks.md: its own sections replaced, a section copied there
// by hand (the load check's) kept in place, on a full run as on a partial one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replaceSections, rewriteDoc } from '../../../bench/doc.js';

const doc = [
  '# Benchmarks',
  '',
  'old header',
  '',
  '## Cache',
  '',
  'old cache',
  '',
  '## Controller under load (the load check)',
  '',
  'copied from CI',
  '',
  '## Autoscaling',
  '',
  'old autoscale',
  '',
].join('\n');

describe('the benchmarks doc writer', () => {
  it('a full run writes the new header and every section it ran, and keeps the hand-copied one in place', () => {
    const out = rewriteDoc(doc, '# Benchmarks\n\nnew header\n', [
      { title: 'Cache', text: '## Cache\n\nnew cache\n' },
      { title: 'Autoscaling', text: '## Autoscaling\n\nnew autoscale\n' },
      { title: 'Simulator', text: '## Simulator\n\nnew simulator\n' },
    ]);
    expect(out).not.toMatch(/old/);
    expect(out.startsWith('# Benchmarks\n\nnew header\n\n## Cache\n\nnew cache\n')).toBe(true);
    const order = ['## Cache', '## Controller under load', '## Autoscaling', '## Simulator'].map((t) =>
      out.indexOf(t),
    );
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(out).toContain('## Controller under load (the load check)\n\ncopied from CI\n');
  });

  it('a partial run replaces only its sections', () => {
    const out = replaceSections(doc, [{ title: 'Autoscaling', text: '## Autoscaling\n\nnew autoscale\n' }]);
    expect(out).toBe(doc.replace('old autoscale', 'new autoscale'));
  });

  it("keeps the real doc's load-check section on a full run", () => {
    const real = readFileSync(new URL('../../../docs/benchmarks.md', import.meta.url), 'utf8');
    const title = /^## (Controller under load[^\n]*)$/m.exec(real)?.[1];
    expect(title).toBeDefined();
    const out = rewriteDoc(real, '# Benchmarks\n', []);
    expect(out).toContain(`## ${title}\n`);
    expect(out.split(/^## /m).length).toBe(real.split(/^## /m).length);
  });
});
