/** One benchmark: `run` measures ours and a baseline in the same run and returns a Markdown section. */
export interface Benchmark {
  /** Short id, for `npm run bench -- <name>`. */
  name: string;
  /** Section heading in docs/benchmarks.md. */
  title: string;
  run(): Promise<string>;
  /** What `--json` prints instead of the section, for benchmarks that have one. */
  json?(): Promise<unknown>;
}
