// What scale to zero costs the one fleet query: the same query with and without the
// requests-over-the-retention-period term (one term per distinct period in force), against a REAL
// Prometheus holding 100 models x 5 variants of backfilled vLLM series over 40 minutes, evaluated at
// a fixed instant. Still one call per cycle; the question is how much longer that call takes.
// Run: `npm run bench -- scale-to-zero`.
import { PrometheusClient } from '../src/prometheus/client.js';
import { DEFAULT_FRESHNESS_RANGE_S, fleetQuery } from '../src/prometheus/promql.js';
import { BACKFILL_TIME_S, startPrometheus } from '../test/support/prometheus.js';
import { type VllmPodTraffic, vllmOpenMetrics } from '../test/support/vllm-openmetrics.js';
import type { Benchmark } from './types.js';

const MODELS = 100;
const VARIANTS = 5;
const ROUNDS = 30;
const AT = new Date(BACKFILL_TIME_S * 1000);

function pods(): VllmPodTraffic[] {
  const out: VllmPodTraffic[] = [];
  for (let m = 0; m < MODELS; m++) {
    for (let v = 0; v < VARIANTS; v++) {
      out.push({
        labels: { model_name: `org/model-${m}`, namespace: `team-${m % 5}`, pod: `model-${m}-v${v}-0` },
        // A fifth of the models idle (flat counters), the rest busy.
        requestsPerSecond: m % 5 === 0 ? 0 : 0.5 + ((m + v) % 5),
        avgPromptTokens: 200,
        avgGenerationTokens: 100,
        avgTtftSeconds: 0.05,
        avgItlSeconds: 0.01,
        fromS: BACKFILL_TIME_S - 2400,
      });
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const bench: Benchmark = {
  name: 'scale-to-zero',
  title: 'Scale to zero: the retention term in the fleet query (real Prometheus 2.42)',
  async run() {
    const prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods()) });
    try {
      const client = new PrometheusClient({ url: prom.url, timeoutMs: 30_000 });
      const base = { window: '1m', freshnessRangeSeconds: DEFAULT_FRESHNESS_RANGE_S };
      const cases = [
        { label: 'fleet query, scale to zero off (baseline)', q: fleetQuery(base) },
        { label: '+ one retention period (10m)', q: fleetQuery({ ...base, requestsOverSeconds: [600] }) },
        {
          label: '+ two retention periods (10m, 30m)',
          q: fleetQuery({ ...base, requestsOverSeconds: [600, 1800] }),
        },
      ];
      for (const c of cases) await client.query(c.q, AT); // warm up the page cache
      const rows: string[] = [];
      let baseline = Number.NaN;
      for (const c of cases) {
        const ms: number[] = [];
        let series = 0;
        for (let i = 0; i < ROUNDS; i++) {
          const t0 = performance.now();
          const r = await client.query(c.q, AT);
          ms.push(performance.now() - t0);
          series = r.result.length;
        }
        const m = median(ms);
        if (Number.isNaN(baseline)) baseline = m;
        rows.push(`| ${c.label} | ${m.toFixed(1)} ms | ${(m / baseline).toFixed(2)}x | ${series} | 1 |`);
      }
      return [
        `${MODELS * VARIANTS} pods (${MODELS} models x ${VARIANTS} variants, 5 namespaces, a fifth idle), 40 min of 15 s`,
        `samples; median of ${ROUNDS} instant queries each, evaluated at a fixed instant.`,
        '',
        '| Query | Median | vs baseline | Series returned | Calls per cycle |',
        '| --- | ---: | ---: | ---: | ---: |',
        ...rows,
      ].join('\n');
    } finally {
      await prom.stop();
    }
  },
};

export default bench;
