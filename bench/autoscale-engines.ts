// The autoscale benchmark in the simulator's world: the same policies and trace shapes, but every
// pod is a simulated vLLM engine (src/simulator/), so no policy is handed the physics it is judged
// in. The optimizer sizes with the profile an operator would measure on these pods (fitProfile).
// Traces are the main benchmark's at a quarter of its rates, to keep the run within a few minutes.

import type { LoadConfig } from '../src/emulator/index.js';
import { fitProfile } from '../src/simulator/profile.js';
import { engineSetup } from '../src/simulator/vllm-args.js';
import { policies, SETTINGS, TRACES } from './autoscale.js';
import { type RunResult, type SimSettings, simulate, type Trace } from './autoscale-sim.js';
import type { Benchmark } from './types.js';

/** The unit cost of an A100 replica (the VariantAutoscaling's default variantCost). */
const VARIANT_COST = 10;

/** The main benchmark's traces (six hours each) at a quarter of their rates: fewer pods, same shapes. */
export const ENGINE_TRACES: Trace[] = TRACES.map((t) => ({ ...t, load: quarter(t.load) }));

function quarter(load: LoadConfig): LoadConfig {
  switch (load.pattern) {
    case 'step':
      return { ...load, rate: load.rate / 4, steps: load.steps.map((x) => ({ ...x, rate: x.rate / 4 })) };
    case 'idle':
      return load;
    default:
      return { ...load, rate: load.rate / 4 };
  }
}

export function engineSettings(): SimSettings {
  const setup = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'A100', { maxNumSeqs: 64 });
  const { inputTokens, outputTokens } = SETTINGS.workload;
  const fit = fitProfile(setup, inputTokens, outputTokens);
  return {
    ...SETTINGS,
    workload: { profile: { ...fit, maxBatchSize: 64 }, inputTokens, outputTokens },
    engines: { setup, input: { mean: inputTokens, cv: 0.5 }, output: { mean: outputTokens, cv: 0.5 } },
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

const benchmark: Benchmark = {
  name: 'autoscale-engines',
  title: 'Autoscaling on simulated vLLM engines',
  async run() {
    const started = performance.now();
    const s = engineSettings();
    const results: RunResult[] = [];
    for (const trace of ENGINE_TRACES)
      for (const p of policies(s, trace)) results.push(simulate(trace, p, s));
    const elapsed = (performance.now() - started) / 1000;
    const p = s.workload.profile;
    const rows = results.map(
      (r) =>
        `| ${r.trace} | ${r.policy} | ${pct(r.attainment)} | ${pct(r.requestAttainment ?? 0)} | ${r.replicaMinutes.toFixed(0)} | ${((r.replicaMinutes / 60) * VARIANT_COST).toFixed(1)} | ${r.actions} | ${r.maxReplicas} |`,
    );
    return [
      `Command: \`npm run bench -- autoscale-engines\`; seed ${s.seed}; ${elapsed.toFixed(1)} s for ${results.length} runs of six simulated hours each.`,
      '',
      `Fleet: Llama-3.1-8B on A100 80 GB pods, \`--max-num-seqs 64\`, as simulated vLLM V1 engines (docs/simulator.md); ` +
        `requests one by one, Poisson arrivals, log-normal lengths (mean ${s.workload.inputTokens} in, ${s.workload.outputTokens} out, CV 0.5). ` +
        `The optimizer's profile is the fit to these pods: alpha ${p.alpha.toFixed(2)}, beta ${p.beta.toFixed(3)}, gamma ${p.gamma.toFixed(1)}, delta ${p.delta.toFixed(5)}. ` +
        `SLO TTFT ${s.slo.ttftMs} ms, ITL ${s.slo.itlMs} ms; policies, cycle, window, start-up (${s.startupMs / 1000} s) as in the benchmark above. ` +
        `Cycle attainment: share of cycles whose average TTFT and ITL were within target; request attainment: share of requests whose own TTFT and ITL were; ` +
        `cost: replica-hours x variantCost ${VARIANT_COST}.`,
      '',
      '| trace | policy | cycle SLO attainment | request SLO attainment | replica-minutes | cost | scaling actions | max replicas |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
  },
};
export default benchmark;
