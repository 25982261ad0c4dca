// How fast scale from zero reacts: wall time from the moment an EPP-style metrics endpoint (served
// here) starts reporting queued requests for a model at zero replicas, to the moment the scale patch
// for its Deployment reaches the API server (the in-process fake one). Everything between is the
// product's: the loop and its default poll interval, the InferencePool and Deployment informers, the
// EPP scrape, and the scale subresource patch through @kubernetes/client-node.
// Baselines in the same run: the EPP scrape alone, and a scrape followed by the same patch with no
// loop (what reacting costs without waiting for a poll). Run: `npm run bench -- scale-from-zero`.
import os from 'node:os';
import { DeploymentScaler } from '../src/actuator/scaler.js';
import { KubeSource } from '../src/controller/kube.js';
import { clusterScaleFromZero, InferencePoolWatch } from '../src/controller/scale-from-zero.js';
import { KubeStatusWriter } from '../src/controller/status-writer.js';
import { DEFAULT_POLL_INTERVAL_MS } from '../src/engines/scale-from-zero/loop.js';
import { httpScrape } from '../src/engines/scale-from-zero/scrape.js';
import { queuePage, startEppPage } from '../test/support/epp.js';
import { FakeApiServer, type Obj } from '../test/support/fake-apiserver.js';
import { variant } from '../test/support/variants.js';
import type { Benchmark } from './types.js';

const TRIALS = 40;
const BASELINE_ROUNDS = 40;
const TARGET_MS = 1000;
const NS = 'prod';

/** A Deployment at zero whose pods the one InferencePool selects. */
function zeroDeployment(name: string): Obj {
  const labels = { app: name, pool: 'zero' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels } } },
    status: { replicas: 0 },
  };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
}

interface Summary {
  median: number;
  p95: number;
  max: number;
}
const summary = (xs: number[]): Summary => ({
  median: quantile(xs, 0.5),
  p95: quantile(xs, 0.95),
  max: Math.max(...xs),
});

/** Polls on real timers: setup waits only, never inside a measured span. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Result {
  trials: number;
  pollIntervalMs: number;
  reaction: Summary;
  scrape: Summary;
  scrapeAndPatch: Summary;
  targetMs: number;
}

async function measure(): Promise<Result> {
  const api = await FakeApiServer.start();
  const epp = await startEppPage();
  const eppUrl = epp.url;
  const kc = api.kubeConfig();
  const source = new KubeSource({ kubeConfig: kc, namespaces: [NS] });
  const pools = new InferencePoolWatch({ kubeConfig: kc, namespaces: [NS], eppUrl: () => eppUrl });
  const scaler = new DeploymentScaler({ kubeConfig: kc });
  const loop = clusterScaleFromZero({
    source,
    pools,
    scaler,
    writer: new KubeStatusWriter({ kubeConfig: kc }),
  });
  try {
    // One variant per trial, all at zero from the start: every tick looks at all those still idle.
    for (let i = 0; i < TRIALS; i++) {
      api.put('variantautoscalings', variant(NS, `zero-${i}`, `org/model-${i}`));
      api.put('deployments', zeroDeployment(`zero-${i}`));
    }
    // For the scrape-and-patch baseline: a Deployment no variant names.
    api.put('deployments', zeroDeployment('baseline'));
    api.put('inferencepools', {
      apiVersion: 'inference.networking.x-k8s.io/v1alpha2',
      kind: 'InferencePool',
      metadata: { name: 'pool', namespace: NS },
      spec: { selector: { pool: 'zero' }, targetPortNumber: 8000, extensionRef: { name: 'epp' } },
    });
    // The idle page: other models queue, ours do not.
    const idle = { 'org/elsewhere': 7 };
    epp.page = queuePage(idle);
    source.start();
    pools.start();
    await source.waitForSync(10_000);
    await until(() => pools.pools() !== null, 'InferencePools listed');

    const scrape = httpScrape();
    const scrapeMs: number[] = [];
    const bothMs: number[] = [];
    for (let i = 0; i < 5; i++) await scrape(eppUrl, undefined); // warm the connection path
    for (let i = 0; i < BASELINE_ROUNDS; i++) {
      let t0 = performance.now();
      await scrape(eppUrl, undefined);
      scrapeMs.push(performance.now() - t0);
      t0 = performance.now();
      await scrape(eppUrl, undefined);
      await scaler.scale(NS, 'baseline', i % 2);
      bothMs.push(performance.now() - t0);
    }

    const patches: Array<{ name: string; at: number }> = [];
    api.onRequest = (rec) => {
      if (rec.subresource === 'scale' && rec.method === 'PATCH' && rec.name?.startsWith('zero-')) {
        patches.push({ name: rec.name, at: performance.now() });
      }
    };
    loop.start();
    // A few idle ticks first: the first ones also write each variant's status once.
    await new Promise((r) => setTimeout(r, 5 * DEFAULT_POLL_INTERVAL_MS));
    const reactionMs: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      // Demand lands at a random point of the poll cycle, as it would in a cluster.
      await new Promise((r) => setTimeout(r, Math.random() * DEFAULT_POLL_INTERVAL_MS * 1.5));
      epp.page = queuePage({ ...idle, [`org/model-${i}`]: 3 });
      const t0 = performance.now();
      await until(() => patches.length > i, `the scale patch of trial ${i}`);
      const p = patches[i];
      if (p?.name !== `zero-${i}`) throw new Error(`bench: trial ${i} scaled ${p?.name}`);
      reactionMs.push(p.at - t0);
      epp.page = queuePage(idle);
      // The next trial starts once the informer sees this one's Deployment at 1 replica.
      await until(() => source.getDeployment(NS, `zero-${i}`)?.spec?.replicas === 1, 'the informer');
    }
    return {
      trials: TRIALS,
      pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
      reaction: summary(reactionMs),
      scrape: summary(scrapeMs),
      scrapeAndPatch: summary(bothMs),
      targetMs: TARGET_MS,
    };
  } finally {
    api.onRequest = undefined;
    await loop.stop();
    await pools.stop();
    await source.stop();
    await epp.close();
    await api.close();
  }
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

const bench: Benchmark = {
  name: 'scale-from-zero',
  title: 'Scale from zero: demand at the EPP to the scale patch at the API server',
  async run() {
    const r = await measure();
    const row = (label: string, s: Summary, base: Summary) =>
      `| ${label} | ${ms(s.median)} | ${ms(s.p95)} | ${ms(s.max)} | ${(s.median / base.median).toFixed(1)}x |`;
    return [
      `${r.trials} trials, each a model whose Deployment is at 0 replicas (all ${r.trials} start at zero; every`,
      'tick looks at those not woken yet), one InferencePool selecting them, its EPP-style metrics page',
      'served in-process, the in-process fake API server behind the real @kubernetes/client-node.',
      'Demand appears at a random point of the poll cycle; the clock stops when the scale patch for',
      `that Deployment reaches the API server. The loop polls every ${r.pollIntervalMs} ms (its default).`,
      '',
      '| Span | Median | p95 | Max | Median vs the scrape alone |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('EPP scrape alone (baseline)', r.scrape, r.scrape),
      row('scrape + scale patch, no loop (baseline)', r.scrapeAndPatch, r.scrape),
      row('demand -> scale patch, through the loop', r.reaction, r.scrape),
      '',
      `Reaction median ${(r.reaction.median / r.pollIntervalMs).toFixed(2)}x the poll interval, p95 ${(r.reaction.p95 / r.pollIntervalMs).toFixed(2)}x:`,
      'beyond the scrape and the patch, the time is the wait for the next tick. Target: under',
      `${r.targetMs} ms after demand; worst trial ${ms(r.reaction.max)} (${((r.reaction.max / r.targetMs) * 100).toFixed(0)} % of it): ${r.reaction.max < r.targetMs ? 'met' : 'NOT met'}.`,
      '',
      `Measured on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, with`,
      '`npm run bench -- scale-from-zero` (also part of `npm run bench`).',
    ].join('\n');
  },
  async json() {
    return measure();
  },
};

export default bench;
