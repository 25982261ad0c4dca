// How Prometheus spells the values that are not finite numbers, in its HTTP API replies and in its
// text exposition format alike. Kept free of imports so that readers of either can share it.

/** NaN, +Inf and -Inf (and Go's unsigned `Inf`) as numbers; undefined for any other text. */
export function nonFiniteSampleValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}
