// How the SLO engine sizes in the controller, and in the benchmark that measures it: one set of
// settings, so the figures in the docs are the product's.

/** The controller's SLO sizing settings (docs/slo-engine.md, "Sizing"). */
export const SLO_SIZING = {
  /** Size for 90 % of each target: room for window averages and single requests scattering. */
  targetFraction: 0.9,
  /** Scale down only to the count meeting 80 % of those: no down-and-up at the SLO's edge. */
  scaleDownFraction: 0.8,
  /** A steadily rising load is sized for its rate this far ahead (replicas serve after start-up). */
  trendLeadMs: 60_000,
} as const;
