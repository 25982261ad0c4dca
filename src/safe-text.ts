// Text from outside (a model id anyone may write into a VariantAutoscaling, a label value or an
// error string from Prometheus) made safe to print: nothing in it can move the cursor, start an
// escape sequence, reorder what is displayed or start a new line.

// C0 and C1 controls, DEL, and the Unicode characters that reorder or break lines on display.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every control or display-reordering character written as a \uXXXX escape. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A name as-is when plain, JSON-quoted when it holds anything that could confuse a reader (spaces,
 * quotes, controls), so `a b` and `"a b"` stay distinct; controls escaped either way; names longer
 * than `max` are cut (`…` inside the quotes).
 */
export function quoteName(name: string, max = 256): string {
  if (/^[\w.\-/:@+]+$/.test(name) && name.length <= max) return name;
  const cut = name.length > max ? `${name.slice(0, max)}…` : name;
  return escapeControls(JSON.stringify(cut));
}
