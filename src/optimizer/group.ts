// Sizing the variants of one model in one namespace together. They share the model's load (the
// router spreads it), so each keeps its minimum replicas, and the load beyond what those carry
// goes to the variant that serves a request per second at the lowest cost, then the next when a
// maxReplicas caps it. Within a variant, the accelerator is chosen with WVA's transition value.
// One variant alone is WVA's sizing exactly: the whole load on it, every accelerator sized for it.
import type { AcceleratorOption } from './inputs.js';
import { SizingMemo } from './memo.js';
import type { RatePlan } from './sizing.js';
import { type LoadProfile, type PredictedLatency, SloInfeasibleError, type SloTargets } from './types.js';

/** WVA's penalty for moving a variant to another accelerator: 0.1 x (old cost + new cost). */
export const ACCELERATOR_PENALTY_FACTOR = 0.1;

export interface GroupVariant {
  /** "namespace/name". */
  key: string;
  options: AcceleratorOption[];
  slo: SloTargets;
  /** The accelerator it runs on now (its label), and the Deployment's replicas. */
  currentAccelerator?: string;
  currentReplicas?: number;
  minReplicas: number;
  maxReplicas?: number;
}

export interface VariantAllocation {
  accelerator: string;
  accCount: number;
  numReplicas: number;
  /** unit cost x accCount x replicas; undefined when the accelerator has no unit cost. */
  cost?: number;
  /** rate* on the chosen accelerator, req/s. */
  ratePerReplica: number;
  /** The share of the model's load this variant is sized for, req/s. */
  assignedRate: number;
  predicted: PredictedLatency;
  /** Replicas the SLO needs for the assigned share before maxReplicas. */
  replicasForSlo: number;
  sloMet: boolean;
  /** Accelerators sized but left out, with why. */
  notChosen: string[];
}

export type VariantOutcome =
  | { ok: true; allocation: VariantAllocation }
  | { ok: false; reason: 'SLOUnreachable' | 'InvalidProfile'; message: string };

interface Option {
  opt: AcceleratorOption;
  plan: RatePlan;
  unitCost: number | undefined;
  /** Cost of one request per second; Infinity without a unit cost. */
  perRate: number;
}

// An option that cannot be sized (a profile that gives no service time for this load, say) is
// left out of its variant alone: the model's other variants are still sized.
function planOptions(v: GroupVariant, load: LoadProfile, costs: Record<string, number>, memo: SizingMemo) {
  const feasible: Option[] = [];
  const infeasible: Array<{ acc: string; err: SloInfeasibleError }> = [];
  const invalid: Array<{ acc: string; message: string }> = [];
  for (const opt of v.options) {
    try {
      const plan = memo.plan(opt.profile, load.avgInputTokens, load.avgOutputTokens, v.slo);
      const unitCost = costOf(costs, opt.acc);
      const perRate =
        unitCost === undefined ? Number.POSITIVE_INFINITY : (unitCost * opt.accCount) / plan.ratePerReplica;
      feasible.push({ opt, plan, unitCost, perRate });
    } catch (err) {
      if (err instanceof SloInfeasibleError) infeasible.push({ acc: opt.acc, err });
      else invalid.push({ acc: opt.acc, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { feasible, infeasible, invalid };
}

/** Why a variant with no feasible option is refused: an SLO out of reach, else its profile. */
function refusal(
  infeasible: Array<{ acc: string; err: SloInfeasibleError }>,
  invalid: Array<{ acc: string; message: string }>,
  load: LoadProfile,
): VariantOutcome {
  const shape = `${load.avgInputTokens} input and ${load.avgOutputTokens} output tokens per request`;
  const bad = invalid.map((e) => `the profile for ${e.acc} cannot be sized for ${shape}: ${e.message}`);
  const slo = infeasible.map((e) => `on ${e.acc}, ${e.err.message}`);
  if (slo.length > 0) return { ok: false, reason: 'SLOUnreachable', message: [...slo, ...bad].join('; ') };
  return { ok: false, reason: 'InvalidProfile', message: bad.join('; ') };
}

/** An accelerator's unit cost: own keys only, so `constructor` or `toString` is not costed. */
function costOf(costs: Record<string, number>, acc: string): number | undefined {
  return Object.hasOwn(costs, acc) ? costs[acc] : undefined;
}

/** Cheapest per request/s first; without costs the fastest replica first. */
function byCostPerRate(a: Option, b: Option): number {
  if (a.perRate !== b.perRate) return a.perRate - b.perRate;
  return b.plan.ratePerReplica - a.plan.ratePerReplica;
}

function replicasOn(o: Option, rate: number, v: GroupVariant): { n: number; forSlo: number } {
  const forSlo = rate > 0 ? Math.max(Math.ceil(rate / o.plan.ratePerReplica), v.minReplicas) : v.minReplicas;
  return { n: Math.min(forSlo, v.maxReplicas ?? Number.MAX_SAFE_INTEGER), forSlo };
}

/**
 * The accelerator for a variant carrying `rate` req/s: WVA's transition value (new - cur, plus the
 * penalty on another accelerator) among costed options, lowest wins; uncosted ones only when no
 * costed option is feasible (then the current accelerator, else the fewest replicas).
 */
function chooseAccelerator(v: GroupVariant, rate: number, options: Option[], costs: Record<string, number>) {
  const curOpt = v.options.find((o) => o.acc === v.currentAccelerator);
  const curUnit = v.currentAccelerator === undefined ? undefined : costOf(costs, v.currentAccelerator);
  const curCost =
    curUnit !== undefined && v.currentReplicas !== undefined
      ? curUnit * (curOpt?.accCount ?? 1) * v.currentReplicas
      : undefined;
  const scored = options.map((o) => {
    const { n, forSlo } = replicasOn(o, rate, v);
    const cost = o.unitCost === undefined ? undefined : o.unitCost * o.opt.accCount * n;
    let score = Number.POSITIVE_INFINITY;
    if (cost !== undefined) {
      if (curCost === undefined) score = cost;
      else if (o.opt.acc === v.currentAccelerator) score = cost - curCost;
      else score = cost - curCost + ACCELERATOR_PENALTY_FACTOR * (curCost + cost);
    }
    return { o, n, forSlo, cost, score };
  });
  scored.sort(
    (a, b) =>
      a.score - b.score ||
      Number(b.o.opt.acc === v.currentAccelerator) - Number(a.o.opt.acc === v.currentAccelerator) ||
      a.n - b.n ||
      a.o.opt.acc.localeCompare(b.o.opt.acc),
  );
  return scored;
}

/** Sizes every variant of one model in one namespace for the model's whole `load`. */
export function sizeGroup(
  variants: GroupVariant[],
  load: LoadProfile,
  costs: Record<string, number>,
  memo: SizingMemo = new SizingMemo(),
): Map<string, VariantOutcome> {
  const out = new Map<string, VariantOutcome>();
  const planned = new Map<string, Option[]>();
  const refusedOptions = new Map<string, string[]>();
  for (const v of variants) {
    const { feasible, infeasible, invalid } = planOptions(v, load, costs, memo);
    if (feasible.length === 0) {
      out.set(v.key, refusal(infeasible, invalid, load));
      continue;
    }
    planned.set(v.key, feasible.sort(byCostPerRate));
    if (invalid.length > 0)
      refusedOptions.set(
        v.key,
        invalid.map((e) => `${e.acc} (profile refused: ${e.message})`),
      );
  }
  const carriers = variants.filter((v) => planned.has(v.key));
  // Base: every variant's minimum replicas on its cheapest-per-request option; then the rest of
  // the load, cheapest variant first, up to each one's maxReplicas.
  const best = (v: GroupVariant) => (planned.get(v.key) as Option[])[0] as Option;
  const total = load.arrivalRate / 60;
  const base = carriers.map((v) => v.minReplicas * best(v).plan.ratePerReplica);
  const baseTotal = base.reduce((a, b) => a + b, 0);
  const assigned = new Map<string, number>();
  if (total <= baseTotal) {
    carriers.forEach((v, i) => {
      assigned.set(v.key, baseTotal > 0 ? (total * (base[i] as number)) / baseTotal : 0);
    });
    // All minimums 0: the cheapest variant takes the load (scale from zero).
    if (baseTotal === 0 && total > 0 && carriers.length > 0) {
      const first = [...carriers].sort(
        (a, b) => byCostPerRate(best(a), best(b)) || a.key.localeCompare(b.key),
      )[0];
      if (first) assigned.set(first.key, total);
    }
  } else {
    let rest = total - baseTotal;
    carriers.forEach((v, i) => {
      assigned.set(v.key, base[i] as number);
    });
    const order = [...carriers].sort((a, b) => byCostPerRate(best(a), best(b)) || a.key.localeCompare(b.key));
    for (const v of order) {
      if (rest <= 0) break;
      const room =
        v.maxReplicas === undefined
          ? Number.POSITIVE_INFINITY
          : Math.max(v.maxReplicas - v.minReplicas, 0) * best(v).plan.ratePerReplica;
      const share = Math.min(rest, room);
      assigned.set(v.key, (assigned.get(v.key) as number) + share);
      rest -= share;
    }
    // Every cap reached: the excess still arrives; the cheapest variant is sized (and capped) for it.
    if (rest > 0 && order[0]) assigned.set(order[0].key, (assigned.get(order[0].key) as number) + rest);
  }
  for (const v of carriers) {
    const rate = assigned.get(v.key) as number;
    const ranked = chooseAccelerator(v, rate, planned.get(v.key) as Option[], costs);
    const pick = ranked[0];
    if (!pick) continue;
    const at = pick.n > 0 ? pick.o.plan.model.analyse(rate / pick.n / 1000) : pick.o.plan.model.analyse(0);
    out.set(v.key, {
      ok: true,
      allocation: {
        accelerator: pick.o.opt.acc,
        accCount: pick.o.opt.accCount,
        numReplicas: pick.n,
        ...(pick.cost === undefined ? {} : { cost: pick.cost }),
        ratePerReplica: pick.o.plan.ratePerReplica,
        assignedRate: rate,
        predicted: { ttftMs: at.ttftMs, itlMs: at.itlMs, utilization: pick.n > 0 ? at.utilization : 0 },
        replicasForSlo: pick.forSlo,
        sloMet: pick.forSlo <= pick.n,
        notChosen: [
          ...ranked.slice(1).map((r) => `${r.o.opt.acc} (${r.n} replicas, cost ${r.cost ?? 'unknown'})`),
          ...(refusedOptions.get(v.key) ?? []),
        ],
      },
    });
  }
  return out;
}
