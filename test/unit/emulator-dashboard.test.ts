// deploy/grafana-dashboard.json: valid JSON, every panel queries, every wva_ metric it names is one
// Telemetry registers (with the right type for _bucket/_sum/_count), and every expression is PromQL
// that Prometheus' own parser accepts (promtool check rules).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActuationMetrics } from '../../src/actuator/metrics.js';
import { Telemetry } from '../../src/telemetry/metrics.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ refId: string; expr: string }>;
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../deploy/grafana-dashboard.json', import.meta.url), 'utf8'),
) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string }> };
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('Grafana dashboard', () => {
  it('has unique panel ids and titles, each panel with at least one query', () => {
    expect(dashboard.uid).toBe('wva-metrics-cache');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(panels.map((p) => p.title)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job']);
  });

  it('covers hit ratio, calls saved, query latency and cycle time', () => {
    const titles = panels.map((p) => p.title.toLowerCase()).join('\n');
    expect(titles).toMatch(/cache hit ratio/);
    expect(titles).toMatch(/calls saved/);
    expect(titles).toMatch(/query latency/);
    expect(titles).toMatch(/cycle time/);
    expect(titles).toMatch(/desired vs current replicas/);
    expect(titles).toMatch(/predicted vs measured ttft/);
    expect(titles).toMatch(/predicted vs measured itl/);
  });

  it('references only metrics Telemetry and the actuator register', async () => {
    const telemetry = new Telemetry({ collectDefaultMetrics: false });
    new ActuationMetrics(telemetry.registry);
    const registered = new Map(
      (await telemetry.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]),
    );
    const used = new Set(exprs.flatMap((e) => e.expr.match(/\bwva_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThanOrEqual(10);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      if (registered.has(name)) continue;
      expect(registered.get(base), `${name} is not a registered metric`).toBe('histogram');
    }
  });

  it('holds PromQL that promtool accepts (Grafana variables filled in)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-dash-'));
    const file = join(dir, 'rules.yml');
    const rules = exprs.map((e, i) => ({
      record: `dashboard:expr_${i}`,
      expr: e.expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$job', '.*'),
    }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`, 'promtool check rules').toContain(
      `SUCCESS: ${rules.length} rules found`,
    );
    expect(r.status).toBe(0);
  });
});
