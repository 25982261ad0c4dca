// The simulator's speed: simulated seconds per wall second for a 40-pod fleet at a realistic load
// (about two thirds of what the pods can serve), in virtual time, with the per-request truth kept.
// The baseline is one pod under the same per-pod load: the fleet should cost about 40x one pod.
import { simulate } from '../src/simulator/run.js';
import { engineSetup } from '../src/simulator/vllm-args.js';
import type { Benchmark } from './types.js';

const SIM_SECONDS = 600;

function run(replicas: number): { wallMs: number; completed: number; steps: number } {
  const setup = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'H100');
  const t0 = performance.now();
  const r = simulate({
    setup,
    replicas,
    durationMs: SIM_SECONDS * 1000,
    // 512-token prompts, 256-token answers: an H100 serves about 12 of these a second at a sane ITL.
    rate: 8 * replicas,
    arrivals: 'poisson',
    input: { mean: 512, cv: 1 },
    output: { mean: 256, cv: 1 },
    seed: 1,
  });
  const wallMs = performance.now() - t0;
  return {
    wallMs,
    completed: r.report.completed,
    steps: r.engines.reduce((a, e) => a + e.gauges().steps, 0),
  };
}

const bench: Benchmark = {
  name: 'simulator',
  title: 'Simulator speed (virtual time)',
  async run() {
    run(2); // warm-up
    const one = run(1);
    const fleet = run(40);
    const rate = (x: { wallMs: number }) => SIM_SECONDS / (x.wallMs / 1000);
    return [
      `Llama-3.1-8B on H100s, Poisson arrivals at 8 requests/s per pod (512 / 256 tokens, CV 1), ${SIM_SECONDS} simulated seconds;`,
      'every engine step simulated, every request kept.',
      '',
      '| fleet | engine steps | requests | wall time | simulated s per wall s |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| 1 pod | ${one.steps} | ${one.completed} | ${one.wallMs.toFixed(0)} ms | ${rate(one).toFixed(0)} |`,
      `| 40 pods | ${fleet.steps} | ${fleet.completed} | ${fleet.wallMs.toFixed(0)} ms | ${rate(fleet).toFixed(1)} |`,
      '',
      `40 pods cost ${(fleet.wallMs / one.wallMs).toFixed(1)}x one pod.`,
    ].join('\n');
  },
};

export default bench;
