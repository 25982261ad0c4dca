// What the closed loop keeps of its cycles: running totals, not the cycles. A demo runs until
// Ctrl-C if asked, so nothing kept may grow with the number of cycles; what the summary lists
// (switches, scaling actions, events) is kept as the latest few with a count of all.

import { ENGINE_NAMES } from '../engines/types.js';
import type { SloTargets } from '../optimizer/index.js';
import type { EngineSwitch, FleetScore, LoopCycle } from './loop-ledger.js';

/** The latest `limit` items pushed, and how many were pushed in all. */
export class Recent<T> {
  private readonly kept: T[] = [];
  /** Items pushed since the start, kept or not. */
  total = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`Recent: limit must be an integer >= 1, got ${limit}`);
  }

  push(...items: T[]): void {
    for (const x of items) {
      this.kept.push(x);
      this.total++;
      if (this.kept.length > this.limit) this.kept.shift();
    }
  }

  /** The kept items, oldest first (a copy). */
  list(): T[] {
    return [...this.kept];
  }

  get length(): number {
    return this.kept.length;
  }
}

/** The SLO engine (with V1's floor or not) or a saturation engine, by name. */
function kind(engine: string): string {
  return engine.startsWith(ENGINE_NAMES.slo) ? ENGINE_NAMES.slo : engine;
}

/** Each model's latest known engine, so a change of engines is found without the cycles before. */
export class EngineTrack {
  private readonly latest = new Map<string, string>();
  private count = 0;
  private firstAt: Date | undefined;

  /** The models `c` hands to another engine (those whose engine was known before); `c` is then the latest. */
  next(c: LoopCycle): EngineSwitch[] {
    this.count++;
    this.firstAt ??= c.at;
    const out: EngineSwitch[] = [];
    for (const m of c.models) {
      if (!m.engine || m.engine === '-') continue;
      const key = `${m.namespace}/${m.modelId}`;
      const was = this.latest.get(key);
      this.latest.set(key, m.engine);
      if (was === undefined || kind(was) === kind(m.engine)) continue;
      out.push({
        cycle: this.count,
        at: c.at,
        sinceStartMs: c.at.getTime() - this.firstAt.getTime(),
        namespace: m.namespace,
        modelId: m.modelId,
        from: was,
        to: m.engine,
        why: m.engineWhy,
      });
    }
    return out;
  }
}

/**
 * Attainment, replica-minutes and cost of the cycles added, each cycle's pods held until the next
 * (the latest one until the end the score is asked for); per variant the most pods it ran or was
 * asked for; per model the first SLO seen.
 */
export class LoopTally {
  /** Cycles added. */
  count = 0;
  firstAt: Date | undefined;
  /** The first cycle that counts for attainment. */
  firstScoredAt: Date | undefined;
  /** The latest cycle: its pods are held until the next one (or the end). */
  latest: LoopCycle | undefined;
  /** Per `namespace/variant`, the most pods it had or was asked for. */
  readonly peak = new Map<string, number>();
  /** Per `namespace/model`, the first SLO a cycle carried. */
  readonly slo = new Map<string, SloTargets>();
  private scored = 0;
  private met = 0;
  private replicaMs = 0;
  private costMs = 0;

  constructor(private readonly costOf: (namespace: string, name: string) => number = () => 1) {}

  add(c: LoopCycle): void {
    if (this.latest) this.hold(this.latest, c.at.getTime());
    this.latest = c;
    this.count++;
    this.firstAt ??= c.at;
    if (c.scored) this.firstScoredAt ??= c.at;
    for (const v of c.variants) {
      const key = `${v.namespace}/${v.name}`;
      this.peak.set(key, Math.max(this.peak.get(key) ?? 0, v.current, v.desired ?? 0));
    }
    for (const m of c.models) {
      const key = `${m.namespace}/${m.modelId}`;
      if (m.slo && !this.slo.has(key)) this.slo.set(key, m.slo);
      if (!c.scored || m.withinSlo === undefined) continue;
      this.scored++;
      if (m.withinSlo) this.met++;
    }
  }

  /** The score until `endAt`, with `actions` scaling actions; the tally goes on unchanged. */
  score(endAt: Date, actions: number): FleetScore {
    const held = { replicaMs: this.replicaMs, costMs: this.costMs };
    if (this.latest) {
      const dt = Math.max(0, endAt.getTime() - this.latest.at.getTime());
      held.replicaMs += this.latest.variants.reduce((a, v) => a + v.current, 0) * dt;
      held.costMs += this.latest.variants.reduce(
        (a, v) => a + v.current * dt * this.costOf(v.namespace, v.name),
        0,
      );
    }
    return {
      cycles: this.scored,
      met: this.met,
      attainment: this.scored > 0 ? this.met / this.scored : undefined,
      replicaMinutes: held.replicaMs / 60_000,
      actions,
      cost: held.costMs / 3_600_000,
    };
  }

  private hold(c: LoopCycle, untilMs: number): void {
    const dt = Math.max(0, untilMs - c.at.getTime());
    for (const v of c.variants) {
      this.replicaMs += v.current * dt;
      this.costMs += v.current * dt * this.costOf(v.namespace, v.name);
    }
  }
}
