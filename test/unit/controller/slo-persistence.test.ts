// When the learned models are read and written: read once at a term's first cycle, written every
// N cycles and when the term ends, read again in the next term; a failing store or a refused
// document is logged and learning goes on.
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import { SloLearner } from '../../../src/controller/slo-learner.js';
import { type LearnedStore, SloPersistence } from '../../../src/controller/slo-persistence.js';
import type { Logger } from '../../../src/types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function memoryStore(initial?: string) {
  let text = initial;
  const calls = { reads: 0, writes: 0 };
  const store: LearnedStore = {
    where: 'memory',
    async read() {
      calls.reads++;
      return text;
    },
    async write(t) {
      calls.writes++;
      text = t;
    },
  };
  return { store, calls, text: () => text };
}

function recordingLogger() {
  const lines: string[] = [];
  const log: Logger = {
    debug() {},
    info: (_o, m) => lines.push(`info ${m}`),
    warn: (o, m) => lines.push(`warn ${m} ${JSON.stringify(o)}`),
    error: (_o, m) => lines.push(`error ${m}`),
    child: () => log,
  };
  return { log, lines };
}

function observed(learner: SloLearner, at: number, batch = 10): void {
  const pod: PodMetrics = {
    pod: 'v-a1b2c-x1',
    modelId: 'm-8b',
    namespace: 'ns',
    avgRunning: batch,
    itlMs: 8 + 0.1 * batch,
  };
  learner.observe({ model: 'm-8b', namespace: 'ns', variantName: 'v', accelerator: 'H100', pods: [pod] }, at);
}

describe('SloPersistence', () => {
  it('reads at the first cycle of a term, writes every N cycles and at the end of the term', async () => {
    const m = memoryStore();
    const learner = new SloLearner();
    const p = new SloPersistence({ store: m.store, learner, everyCycles: 10, now: () => T0 });
    for (let i = 0; i < 25; i++) {
      p.cycle();
      await p.ready();
      observed(learner, T0);
    }
    await p.save().then(() => undefined);
    // The explicit save above is the third; cycles 11 and 21 wrote the first two.
    expect(m.calls).toEqual({ reads: 1, writes: 3 });
    await p.flush();
    expect(m.calls.writes).toBe(4);
    p.cycle();
    await p.ready();
    expect(m.calls.reads).toBe(2);
    expect(JSON.parse(m.text() as string).estimates).toHaveLength(1);
  });

  it('keeps learning when the store fails or holds something else, and says so', async () => {
    const { log, lines } = recordingLogger();
    const learner = new SloLearner();
    const failing: LearnedStore = {
      where: 'ConfigMap x/y',
      read: async () => {
        throw new Error('forbidden');
      },
      write: async () => {
        throw new Error('forbidden');
      },
    };
    const p = new SloPersistence({ store: failing, learner, logger: log, now: () => T0 });
    p.cycle();
    await p.ready();
    observed(learner, T0);
    await p.flush();
    expect(
      lines.some(
        (l) => l.startsWith('warn cannot read the learned performance models') && l.includes('forbidden'),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('warn cannot save the learned performance models'))).toBe(true);
    expect(learner.size).toBe(1);

    const other = recordingLogger();
    const q = new SloPersistence({
      store: memoryStore('{"schemaVersion": 9}').store,
      learner: new SloLearner(),
      logger: other.log,
    });
    q.cycle();
    await q.ready();
    expect(other.lines.some((l) => l.includes('refused whole') && l.includes('schemaVersion is 9'))).toBe(
      true,
    );
  });

  it("keeps the newer of a held estimate and the document's when a term starts again", () => {
    const older = new SloLearner();
    observed(older, T0);
    const newer = new SloLearner();
    observed(newer, T0 + 60_000, 20);
    const held = new SloLearner();
    observed(held, T0 + 30_000);
    expect(held.restore(older.serialize(T0), T0 + 120_000).restored).toBe(0);
    expect(held.restore(newer.serialize(T0), T0 + 120_000).restored).toBe(1);
    expect(held.views()[0]?.updatedAtMs).toBe(T0 + 60_000);
    // The variant's name, known from this term, is kept.
    expect(held.views()[0]?.variantName).toBe('v');
  });
});
