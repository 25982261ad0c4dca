// Number formatting as Go's fmt `%.Nf` does it, so reasons read exactly as upstream WVA v0.5 writes
// them. JavaScript's toFixed rounds exact ties away from zero; Go rounds them to even.

/** Go `%.<digits>f` of `x`. */
export function goFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  // Beyond 1e21 toFixed switches to exponent form; such doubles are whole numbers anyway.
  if (Math.abs(x) >= 1e21) return `${BigInt(x)}${digits > 0 ? `.${'0'.repeat(digits)}` : ''}`;
  const plain = x.toFixed(digits);
  // toFixed(100) prints the binary value exactly, so a true tie is visible in its digits.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (tail[0] !== '5' || /[1-9]/.test(tail.slice(1))) return plain;
  // An exact tie: toFixed went away from zero; Go keeps the even neighbour.
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 0) return x < 0 ? `-${kept}` : kept;
  return plain;
}

/** Go `int64(x)`: the fraction dropped toward zero. */
export function trunc(x: number): number {
  const t = Math.trunc(x);
  return t === 0 ? 0 : t;
}
