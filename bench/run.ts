// `npm run bench`: runs every benchmark in one process, prints each section, and rewrites
// docs/benchmarks.md with the figures, the command and the machine.
// `npm run bench -- <name>...` runs only the named benchmarks and replaces only their sections.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { replaceSections, rewriteDoc, type Section } from './doc.js';
import type { Benchmark } from './types.js';

// Each module's default export is a Benchmark. Add new ones here, in the order they should run.
const modules: Array<() => Promise<{ default: Benchmark }>> = [
  () => import('./cache.js'),
  () => import('./collector.js'),
  () => import('./optimizer.js'),
  () => import('./scale-to-zero.js'),
  () => import('./scale-from-zero-reaction.js'),
  () => import('./simulator.js'),
  () => import('./autoscale.js'),
];
const docUrl = new URL('../docs/benchmarks.md', import.meta.url);

const json = process.argv.includes('--json');
const only = process.argv.slice(2).filter((a) => a !== '--json');

// `--json`: each named benchmark's document alone on stdout, nothing else, and no doc rewritten.
if (json) {
  for (const load of modules) {
    const bench = (await load()).default;
    if (only.length > 0 && !only.includes(bench.name)) continue;
    if (bench.json) process.stdout.write(`${JSON.stringify(await bench.json())}\n`);
  }
  process.exit(0);
}

const sections: string[] = [];
const titles: string[] = [];
const written = (): Section[] => sections.map((text, i) => ({ title: titles[i]!, text }));
for (const load of modules) {
  const bench = (await load()).default;
  if (only.length > 0 && !only.includes(bench.name)) continue;
  process.stdout.write(`\n## ${bench.title}\n`);
  const markdown = await bench.run();
  process.stdout.write(`${markdown}\n`);
  sections.push(`## ${bench.title}\n\n${markdown}\n`);
  titles.push(bench.title);
}

if (only.length > 0 && sections.length > 0) {
  writeFileSync(docUrl, replaceSections(readFileSync(docUrl, 'utf8'), written()));
  process.stdout.write(`\nupdated ${titles.join(', ')} in docs/benchmarks.md\n`);
}

if (only.length === 0) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand, but for a section that says it is',
    'copied from elsewhere (the run keeps those). Each benchmark compares against a',
    'baseline measured in the same run, so the ratios hold on other machines even where the absolute',
    'figures do not.',
    '',
    `- Machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    `- Node ${process.version}; run on ${new Date().toISOString().slice(0, 10)}`,
    '- Command: `npm run bench`',
    '',
  ].join('\n');
  // Sections this run does not write (the load check's, copied from CI) are kept where they stand.
  let doc = '';
  try {
    doc = readFileSync(docUrl, 'utf8');
  } catch {
    // No doc yet: the sections alone.
  }
  writeFileSync(docUrl, rewriteDoc(doc, header, written()));
  process.stdout.write('\nwrote docs/benchmarks.md\n');
}
