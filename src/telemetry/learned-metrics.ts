// The learned performance models as gauges, read from the learner at scrape time (so a variant the
// learner dropped loses its series, and nothing is published before it is known). One series per
// variant and parameter: bounded by the learner's variant limit, like the actuator's per-variant
// series; the model name is not a label (the variant's name and namespace identify it).
import { Gauge, type Registry } from 'prom-client';

/** What one learned variant shows. */
export interface LearnedModelSample {
  namespace: string;
  variant: string;
  accelerator: string;
  /** alpha, beta (decode ITL line, ms and ms per request), gamma, delta (prefill line). */
  parameters: Readonly<Record<string, number>>;
  /** Rolling relative prediction errors, percent; null before the first scored cycle. */
  itlErrorPct: number | null;
  ttftErrorPct: number | null;
  /** Whether the SLO engine may size with it. */
  usable: boolean;
}

export const LEARNED_METRIC_NAMES = {
  parameter: 'wva_model_parameter',
  predictionError: 'wva_model_prediction_error',
  usable: 'wva_model_usable',
} as const;

/** Registers the gauges on `registry`; `samples` is called at each scrape. */
export function registerLearnedModelMetrics(
  registry: Registry,
  samples: () => readonly LearnedModelSample[],
): void {
  const labels = ['namespace', 'variant', 'accelerator'] as const;
  let current: readonly LearnedModelSample[] = [];
  // One read of the learner per scrape, shared by the three gauges.
  const read = () => {
    current = samples().filter((s) => s.variant !== '');
  };
  new Gauge({
    name: LEARNED_METRIC_NAMES.parameter,
    help: 'A learned performance-model parameter of a variant: alpha (ms), beta (ms per running request), gamma (ms), delta (ms per input token x running request)',
    labelNames: [...labels, 'parameter'],
    registers: [registry],
    collect() {
      read();
      this.reset();
      for (const s of current)
        for (const [parameter, v] of Object.entries(s.parameters))
          if (Number.isFinite(v))
            this.set(
              { namespace: s.namespace, variant: s.variant, accelerator: s.accelerator, parameter },
              v,
            );
    },
  });
  new Gauge({
    name: LEARNED_METRIC_NAMES.predictionError,
    help: 'Rolling relative error of the learned model predicting ITL or TTFT before seeing each cycle, as a fraction (absent until scored)',
    labelNames: [...labels, 'metric'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of current) {
        const l = { namespace: s.namespace, variant: s.variant, accelerator: s.accelerator };
        if (s.itlErrorPct !== null) this.set({ ...l, metric: 'itl' }, s.itlErrorPct / 100);
        if (s.ttftErrorPct !== null) this.set({ ...l, metric: 'ttft' }, s.ttftErrorPct / 100);
      }
    },
  });
  new Gauge({
    name: LEARNED_METRIC_NAMES.usable,
    help: '1 when the learned model of a variant is confident enough for the SLO engine to size with, else 0',
    labelNames: [...labels],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of current)
        this.set(
          { namespace: s.namespace, variant: s.variant, accelerator: s.accelerator },
          s.usable ? 1 : 0,
        );
    },
  });
}
