// Seeded randomness: every pod draws from its own stream, derived from the seed and its name, so
// adding a pod or reordering the config does not change what the others emit.

/** FNV-1a, 32 bit: a stable number from a string. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: small, fast, good enough for load simulation. Returns numbers in [0, 1). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random stream for one named thing under a seed. */
export function streamFor(seed: number, name: string): () => number {
  return createRandom(hashString(name, hashString(String(seed))));
}

/**
 * Values spread uniformly within ±spread (a fraction) around a mean, drawn in antithetic pairs
 * (m(1+u), m(1-u)), so every two draws average exactly to the mean. That keeps sums over a window
 * close to count * mean, which is what rate(sum)/rate(count) reads back.
 */
export class PairedSampler {
  private pending: number | undefined;
  constructor(
    private readonly random: () => number,
    private readonly spread: number,
  ) {}

  /** A value around `mean`; the mean may change between calls (the pair then averages both). */
  next(mean: number): number {
    if (this.pending !== undefined) {
      const u = this.pending;
      this.pending = undefined;
      return mean * (1 - u);
    }
    const u = (this.random() * 2 - 1) * this.spread;
    this.pending = u;
    return mean * (1 + u);
  }
}

const POD_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes-looking pod name `<deployment>-<hash>-<suffix>`, stable for a seed. */
export function podName(deployment: string, index: number, seed: number): string {
  const rnd = streamFor(seed, `${deployment}#${index}`);
  const pick = (n: number) =>
    Array.from({ length: n }, () => POD_ALPHABET[Math.floor(rnd() * POD_ALPHABET.length)]).join('');
  const hashRnd = streamFor(seed, deployment);
  const hash = Array.from(
    { length: 10 },
    () => POD_ALPHABET[Math.floor(hashRnd() * POD_ALPHABET.length)],
  ).join('');
  return `${deployment}-${hash}-${pick(5)}`;
}
