// Local mode from the outside: manifests written as YAML files in a temporary directory, and one
// `run --manifests <dir> --once` cycle of the real CLI against a Prometheus, evaluated at the
// backfilled series' time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type CliResult, runCli } from './cli.js';
import { BACKFILL_TIME_S } from './prometheus.js';

/** A fresh temporary directory (`wva-<prefix>-…`) and how to remove it. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `wva-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes `objects` as one multi-document YAML file `dir/file`; returns its path. */
export function writeManifests(dir: string, file: string, objects: object[]): string {
  const path = join(dir, file);
  writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'));
  return path;
}

/**
 * One local cycle: `run --manifests <manifests> --once --output <output>` against `prometheusUrl`
 * at BACKFILL_TIME_S. `quiet` adds `--log-level error` (stderr then holds errors only).
 */
export function runLocalOnce(
  manifests: string,
  prometheusUrl: string,
  o: { output?: 'json' | 'table'; quiet?: boolean; args?: string[] } = {},
): Promise<CliResult> {
  return runCli([
    'run',
    '--manifests',
    manifests,
    '--once',
    '--output',
    o.output ?? 'json',
    '--prometheus-url',
    prometheusUrl,
    '--time',
    String(BACKFILL_TIME_S),
    ...(o.quiet ? ['--log-level', 'error'] : []),
    ...(o.args ?? []),
  ]);
}
