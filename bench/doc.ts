// How `npm run bench` rewrites docs/benchmarks.md: a benchmark's section (from its `## title` line
// to the next `## `) is replaced by the new one, or appended when new; every other section, such as
// one copied there by hand from CI, stays where it stands.

export interface Section {
  title: string;
  /** The section's text, starting with its `## title` line. */
  text: string;
}

/** `doc` with each of `sections` replaced (appended when new); the rest as it was. */
export function replaceSections(doc: string, sections: readonly Section[]): string {
  const parts = doc.split(/^(?=## )/m);
  for (const s of sections) {
    const at = parts.findIndex((p) => p.startsWith(`## ${s.title}\n`));
    if (at >= 0) parts[at] = `${s.text}${at < parts.length - 1 ? '\n' : ''}`;
    else parts.push(`\n${s.text}`);
  }
  return parts.join('');
}

/** The whole doc after a full run: the new header, then the doc's sections with `sections` replaced. */
export function rewriteDoc(doc: string, header: string, sections: readonly Section[]): string {
  const body = replaceSections(doc, sections).split(/^(?=## )/m);
  if (body.length > 0 && !body[0]!.startsWith('## ')) body.shift();
  return `${header}\n${body.join('')}`;
}
