// Sizing for a quantile of per-request ITL, not its mean. The queueing model predicts the mean ITL
// of a replica's requests; requests scatter around it (a short answer that shared its few decode
// steps with long prefill chunks sees a much higher ITL than the batch's average), and the
// performance model's own prediction of that mean is off by its measured error. Both spreads,
// taken as independent and roughly normal, widen the mean's margin: the mean is sized for
// target / (1 + z x sqrt(cv^2 + error^2)), z the quantile's standard normal score.

export interface TailOptions {
  /** The share of requests whose own ITL should meet the target (0.5 < q < 1), e.g. 0.9. */
  quantile: number;
  /** Per-request ITL's coefficient of variation around a replica's mean (>= 0). */
  itlCv: number;
}

/** The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p ${p} is not in (0, 1)`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** Why the options cannot be used, or null. */
export function tailProblem(t: TailOptions): string | null {
  if (!(Number.isFinite(t.quantile) && t.quantile > 0.5 && t.quantile < 1))
    return `tail quantile ${t.quantile} must be above 0.5 and below 1 (e.g. 0.9)`;
  if (!(Number.isFinite(t.itlCv) && t.itlCv >= 0))
    return `tail itlCv ${t.itlCv} must be a number >= 0 (e.g. 0.15)`;
  return null;
}

/**
 * The mean ITL to size a variant for so that the quantile of its requests' own ITL meets
 * `targetMs`; `errorFraction` the model's rolling relative prediction error of ITL (0 if unknown).
 */
export function itlMeanTarget(targetMs: number, t: TailOptions, errorFraction = 0): number {
  const err = Number.isFinite(errorFraction) && errorFraction > 0 ? errorFraction : 0;
  const spread = Math.sqrt(t.itlCv * t.itlCv + err * err);
  return targetMs / (1 + normalQuantile(t.quantile) * spread);
}
