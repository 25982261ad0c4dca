// `npm run bench`: runs every benchmark in one process, prints each section, and rewrites
// docs/benchmarks.md with the figures, the command and the machine.
// `npm run bench -- <name>...` runs only the named benchmarks (and does not rewrite the doc).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Benchmark } from './types.js';

// Each module's default export is a Benchmark. Add new ones here, in the order they should run.
const modules: Array<() => Promise<{ default: Benchmark }>> = [
  () => import('./cache.js'),
  () => import('./collector.js'),
  () => import('./optimizer.js'),
  () => import('./scale-to-zero.js'),
];

const only = process.argv.slice(2);
const sections: string[] = [];
for (const load of modules) {
  const bench = (await load()).default;
  if (only.length > 0 && !only.includes(bench.name)) continue;
  process.stdout.write(`\n## ${bench.title}\n`);
  const markdown = await bench.run();
  process.stdout.write(`${markdown}\n`);
  sections.push(`## ${bench.title}\n\n${markdown}\n`);
}

if (only.length === 0) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Each benchmark compares against a',
    'baseline measured in the same run, so the ratios hold on other machines even where the absolute',
    'figures do not.',
    '',
    `- Machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    `- Node ${process.version}; run on ${new Date().toISOString().slice(0, 10)}`,
    '- Command: `npm run bench`',
    '',
  ].join('\n');
  writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), `${header}\n${sections.join('\n')}`);
  process.stdout.write('\nwrote docs/benchmarks.md\n');
}
