// Emulated vLLM pods run in virtual time and "scraped" every few seconds into OpenMetrics text, for
// backfilling a real Prometheus (startPrometheus({ openmetrics })): minutes of traffic in seconds,
// with the labels Prometheus would add at scrape time (namespace, pod). Histogram buckets other than
// +Inf are left out (nothing here reads quantiles), which keeps the blocks small.
import type { VllmEmulator } from '../../src/emulator/index.js';

interface Family {
  type: 'counter' | 'gauge' | 'histogram';
  /** series (labels text) -> points in time order: sample name suffix -> value */
  series: Map<string, Array<{ t: number; values: Map<string, number> }>>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;

/** Scrapes every pod of `emu` every `stepMs` from its clock's now until `untilMs`, advancing it. */
export async function scrapeEmulator(
  emu: VllmEmulator,
  clock: { now: number },
  untilMs: number,
  stepMs: number,
  keep: readonly string[],
): Promise<string> {
  const families = new Map<string, Family>();
  while (clock.now < untilMs) {
    clock.now += stepMs;
    emu.advanceTo(clock.now);
    const t = Math.round(clock.now / 1000);
    for (const pod of emu.pods) {
      if (pod.readyAtMs > clock.now) continue;
      const extra = `namespace="${pod.namespace}",pod="${pod.name}"`;
      let family: { name: string; f: Family } | undefined;
      for (const line of (await pod.metrics()).split('\n')) {
        if (line.startsWith('# TYPE ')) {
          const [, , name, type] = line.split(' ');
          const base = type === 'counter' ? (name as string).replace(/_total$/, '') : (name as string);
          if (!keep.includes(base)) {
            family = undefined;
            continue;
          }
          let f = families.get(base);
          if (!f) {
            f = { type: type as Family['type'], series: new Map() };
            families.set(base, f);
          }
          family = { name: base, f };
          continue;
        }
        const m = SAMPLE.exec(line);
        if (!m || !family) continue;
        const [, sample, labelText, value] = m;
        const suffix = (sample as string).slice(family.name.length);
        if (suffix === '_bucket') continue;
        const inner = labelText ? (labelText as string).slice(1, -1) : '';
        const key = inner ? `${inner},${extra}` : extra;
        let points = family.f.series.get(key);
        if (!points) {
          points = [];
          family.f.series.set(key, points);
        }
        let last = points.at(-1);
        if (!last || last.t !== t) {
          last = { t, values: new Map() };
          points.push(last);
        }
        last.values.set(suffix, Number(value));
      }
    }
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    out.push(`# TYPE ${name} ${f.type}`);
    for (const [labels, points] of f.series)
      for (const p of points) {
        if (f.type === 'histogram') {
          const count = p.values.get('_count') ?? 0;
          out.push(`${name}_bucket{${labels},le="+Inf"} ${count} ${p.t}`);
          out.push(`${name}_count{${labels}} ${count} ${p.t}`);
          out.push(`${name}_sum{${labels}} ${p.values.get('_sum') ?? 0} ${p.t}`);
        } else {
          for (const [suffix, v] of p.values) out.push(`${name}${suffix}{${labels}} ${v} ${p.t}`);
        }
      }
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
