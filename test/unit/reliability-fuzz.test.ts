// Fuzz beyond the reply parser (whose own fuzz is in prometheus-parse.test.ts): well-formed vector
// replies with arbitrary labels and sample strings through the collector, and arbitrary
// VariantAutoscaling specs through the reconciler next to valid ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectAggregateMetrics,
  collectFleetMetrics,
  MetricsCollectionError,
} from '../../src/collector/index.js';
import { LocalSource } from '../../src/controller/local.js';
import type { MetricsRead } from '../../src/controller/status.js';
import type { VariantAutoscaling } from '../../src/kube/types.js';
import { PrometheusError } from '../../src/prometheus/errors.js';
import type { AggregateMetrics, PromAPI, PromQueryData } from '../../src/types.js';
import { cycleDriver } from '../support/cycles.js';
import { deployment, foundReading, vaObject } from '../support/variants.js';

const STAT_NAMES = [
  'arrival_rate_per_min',
  'avg_input_tokens',
  'avg_output_tokens',
  'ttft_ms',
  'itl_ms',
  'newest_sample_time',
  'other',
];

const sampleText = fc.oneof(
  fc.constantFrom(
    'NaN',
    '+Inf',
    '-Inf',
    'Inf',
    '1e400',
    '-1e400',
    '1.7e308',
    '0',
    '-0',
    '',
    ' ',
    '0x10',
    '1_000',
  ),
  fc.double().map(String),
  fc.integer().map(String),
  fc.string(),
);
const labels = fc.record(
  {
    model_name: fc.oneof(fc.constant('m'), fc.string()),
    namespace: fc.oneof(fc.constant('ns'), fc.string()),
    stat: fc.constantFrom(...STAT_NAMES),
  },
  { requiredKeys: [] },
);
const vector = fc.array(
  fc.record({ metric: labels, value: fc.tuple(fc.oneof(fc.double(), fc.integer()), sampleText) }),
  { maxLength: 20 },
);

function stub(result: PromQueryData['result']): PromAPI {
  return { query: async () => ({ resultType: 'vector', result }) as PromQueryData };
}

/** Every number the result holds (unknown ones are absent, never NaN or ±Inf). */
function numbers(m: AggregateMetrics): number[] {
  return [...Object.values(m.load), m.ttftAverage, m.itlAverage, ...Object.values(m.saturation ?? {})].filter(
    (n): n is number => n !== undefined,
  );
}

describe('collector fuzz', () => {
  it('any vector reply: finite numbers, or MetricsCollectionError caused by a PrometheusError', async () => {
    await fc.assert(
      fc.asyncProperty(vector, async (result) => {
        const prom = stub(result as PromQueryData['result']);
        try {
          const m = await collectAggregateMetrics('m', 'ns', prom);
          for (const n of numbers(m)) expect(Number.isFinite(n)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(MetricsCollectionError);
          expect((err as Error).cause).toBeInstanceOf(PrometheusError);
        }
        try {
          const fleet = await collectFleetMetrics(prom);
          for (const f of fleet.values()) {
            for (const n of numbers(f)) expect(Number.isFinite(n)).toBe(true);
            if (f.newestSample) expect(Number.isNaN(f.newestSample.getTime())).toBe(false);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(MetricsCollectionError);
          expect((err as Error).cause).toBeInstanceOf(PrometheusError);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('bad VariantAutoscaling specs', () => {
  const good = (name: string): VariantAutoscaling => vaObject('prod', name, 'org/model');

  const reader = {
    reads: 0,
    async read(model: string, ns: string): Promise<MetricsRead> {
      this.reads++;
      return foundReading(model, ns, 6);
    },
  };

  // Mutations of a valid spec (a field removed, retyped, emptied) and arbitrary values.
  const badSpec = fc.oneof(
    fc.anything(),
    fc.record({
      modelID: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null), fc.string()),
      sloClassRef: fc.oneof(fc.anything(), fc.record({ name: fc.anything(), key: fc.anything() })),
      modelProfile: fc.oneof(
        fc.anything(),
        fc.record({
          accelerators: fc.oneof(
            fc.anything(),
            fc.array(
              fc.record(
                {
                  acc: fc.anything(),
                  accCount: fc.anything(),
                  maxBatchSize: fc.anything(),
                  perfParms: fc.anything(),
                },
                { requiredKeys: [] },
              ),
            ),
          ),
        }),
      ),
    }),
  );

  it('an invalid spec gets Reconciled=False/InvalidSpec naming the field; valid neighbours are untouched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(badSpec, { minLength: 1, maxLength: 5 }), async (specs) => {
        const source = new LocalSource();
        const variants = [good('ok-a'), good('ok-b')];
        specs.forEach((spec, i) => {
          variants.push({ ...good(`bad-${i}`), spec } as unknown as VariantAutoscaling);
        });
        source.load({
          variants,
          deployments: variants.map((v) => deployment('prod', v.metadata.name, 1)) as never,
        });
        const driver = cycleDriver({ source, writer: source, collector: reader });
        const cycle = await driver.runCycle();
        expect(cycle.results.every((r) => r.outcome === 'written' || r.outcome === 'unchanged')).toBe(true);
        for (const name of ['ok-a', 'ok-b']) {
          const st = source.getVariant('prod', name)?.status;
          expect(st?.currentAlloc?.load.arrivalRate).toBe('6.00');
          expect(st?.conditions?.find((c) => c.type === 'Reconciled')?.reason).toBe('Reconciled');
        }
        specs.forEach((_, i) => {
          const st = source.getVariant('prod', `bad-${i}`)?.status;
          const rc = st?.conditions?.find((c) => c.type === 'Reconciled');
          // Some generated specs happen to be valid; those reconcile like the good ones.
          if (rc?.reason === 'InvalidSpec') {
            expect(rc.status).toBe('False');
            expect(rc.message).toMatch(/^Invalid spec: spec[\w.[\]]*: /);
            expect(st?.currentAlloc).toBeUndefined();
          } else {
            expect(rc?.reason).toBe('Reconciled');
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
