// How a vLLM command line splits into flags, shared by every reader of one (the saturation
// engine, the SLO learner, the simulator) so they agree on what a flag and its value are. It sits
// at the top of src and imports nothing because the simulator may not depend on the engines.

/** One `--flag value` / `--flag=value` of a command line. */
export interface VllmFlag {
  /** As written, without the leading `--` (`max-num-seqs`, `max_num_seqs`). */
  name: string;
  /** '' for a boolean flag: one followed by another flag or by nothing. */
  value: string;
}

/**
 * The flags of a command line in order. A token starting with `--` is a flag; its value is what
 * follows `=`, else the next token unless that is a flag too. Other tokens are skipped, and
 * single-dash short flags (`-tp`) are not flags here, since `-1` can be a value.
 */
export function vllmFlagList(tokens: readonly string[]): VllmFlag[] {
  const out: VllmFlag[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.startsWith('--')) continue;
    const eq = t.indexOf('=');
    if (eq >= 0) {
      out.push({ name: t.slice(2, eq), value: t.slice(eq + 1) });
      continue;
    }
    const next = tokens[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out.push({ name: t.slice(2), value: next });
      i++;
    } else {
      out.push({ name: t.slice(2), value: '' });
    }
  }
  return out;
}

/** vLLM accepts `--max-num-seqs` and `--max_num_seqs` alike; this is the one spelling to compare. */
export function snakeFlagName(name: string): string {
  return name.replaceAll('-', '_');
}

// The module that `python -m` runs to start vLLM's OpenAI-compatible server.
const ENTRYPOINT = /^vllm\.entrypoints\./;

/**
 * Splits off how the server is launched — `vllm serve <model>`, `serve <model>` (args after a
 * `vllm` entrypoint) or `python -m vllm.entrypoints.openai.api_server` — and returns the
 * positional model, if any, and the remaining tokens.
 */
export function vllmLauncher(argv: readonly string[]): { model?: string; rest: string[] } {
  const rest = [...argv];
  if (/^python[\d.]*$/.test(rest[0] ?? '') && rest[1] === '-m' && ENTRYPOINT.test(rest[2] ?? ''))
    rest.splice(0, 3);
  else if (rest[0] === 'vllm' && rest[1] === 'serve') rest.splice(0, 2);
  else if (rest[0] === 'serve') rest.shift();
  const first = rest[0];
  if (first !== undefined && !first.startsWith('-')) return { model: rest.shift(), rest };
  return { rest };
}
