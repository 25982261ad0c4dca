// What the container image runs, read from the Dockerfile so tests that measure the controller "as
// it ships" cannot drift from it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The Node flags between the node binary and dist/cli/main.js in the Dockerfile's ENTRYPOINT. */
export function imageNodeFlags(): string[] {
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  if (!m) throw new Error('Dockerfile has no exec-form ENTRYPOINT');
  const argv = JSON.parse(m[1] as string) as string[];
  const main = argv.indexOf('dist/cli/main.js');
  if (main < 1) throw new Error(`ENTRYPOINT ${m[1]} does not run dist/cli/main.js`);
  return argv.slice(1, main);
}

/**
 * argv (after the node binary) of `wva-metrics run` in cluster mode as it ships: the built dist/,
 * the image's Node flags plus `nodeArgs`, the peak-RSS preload, one replica, no ConfigMap, an
 * ephemeral telemetry port; `args` added at the end.
 */
export function shippedClusterRun(o: {
  kubeconfig: string;
  prometheusUrl: string;
  nodeArgs?: string[];
  args?: string[];
}): string[] {
  const preload = fileURLToPath(new URL('../reliability/rss-preload.mjs', import.meta.url));
  return [
    ...imageNodeFlags(),
    ...(o.nodeArgs ?? []),
    '--import',
    preload,
    join(repoRoot, 'dist/cli/main.js'),
    'run',
    '--kubeconfig',
    o.kubeconfig,
    '--no-configmap',
    '--no-leader-elect',
    '--metrics-addr',
    '127.0.0.1:0',
    '--prometheus-url',
    o.prometheusUrl,
    ...(o.args ?? []),
  ];
}
