// `wva-metrics profile`: what the controller learned per variant, read from the ConfigMap it
// keeps in the cluster or from a file saved by `run --learned-file`. Read-only.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { LEARNED_CONFIGMAP, LEARNED_CONFIGMAP_KEY } from '../controller/slo-persistence.js';
import {
  DEFAULT_LEARNED_RETENTION_MS,
  type PerformanceEstimator,
  type RefusedEstimate,
  restoreLearnedProfiles,
} from '../engines/slo/learn/index.js';
import { apiErrorMessage, getConfigMap } from '../kube/http.js';
import { action, UsageError } from './errors.js';
import { renderTable } from './table.js';

const DEFAULT_NAMESPACE = 'workload-variant-autoscaler-system';

interface ProfileFlags {
  file?: string;
  kubeconfig?: string;
  namespace?: string;
  configmap: string;
  output: string;
  all?: boolean;
}

/** One variant's learned model as printed. */
export interface ProfileRow {
  namespace: string;
  model: string;
  accelerator: string;
  argsFingerprint: string;
  maxBatchSize: number;
  /** ms, ms per running request, ms, ms per input token x running request. */
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
  prior: string;
  cycles: number;
  itlErrorPct: number | null;
  ttftErrorPct: number | null;
  usable: boolean;
  reason: string;
  estimatedAt: string | null;
}

export function profileRows(estimators: readonly PerformanceEstimator[]): ProfileRow[] {
  return estimators
    .map((e) => {
      const k = e.key;
      const p = e.profile();
      const s = e.status();
      const at = e.snapshot().updatedAtMs;
      return {
        namespace: k.namespace,
        model: k.model,
        accelerator: k.accelerator,
        argsFingerprint: k.argsFingerprint,
        maxBatchSize: p.maxBatchSize,
        alpha: p.alpha,
        beta: p.beta,
        gamma: p.gamma,
        delta: p.delta,
        prior: s.priorSource,
        cycles: s.cycles,
        itlErrorPct: s.itlErrorPct,
        ttftErrorPct: s.ttftErrorPct,
        usable: s.usable,
        reason: s.reason,
        estimatedAt: at === null ? null : new Date(at).toISOString(),
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.model.localeCompare(b.model));
}

const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const pct = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} %`);

export function formatProfileTable(rows: readonly ProfileRow[], refused: readonly RefusedEstimate[]): string {
  let out = renderTable<ProfileRow>(
    [
      { header: 'NAMESPACE', value: (r) => r.namespace },
      { header: 'MODEL', value: (r) => r.model },
      { header: 'ACCELERATOR', value: (r) => r.accelerator },
      { header: 'ALPHA(ms)', value: (r) => num(r.alpha, 2), align: 'right' },
      { header: 'BETA', value: (r) => num(r.beta, 4), align: 'right' },
      { header: 'GAMMA(ms)', value: (r) => num(r.gamma, 2), align: 'right' },
      { header: 'DELTA', value: (r) => num(r.delta, 6), align: 'right' },
      { header: 'CYCLES', value: (r) => String(r.cycles), align: 'right' },
      { header: 'ITL-ERR', value: (r) => pct(r.itlErrorPct), align: 'right' },
      { header: 'TTFT-ERR', value: (r) => pct(r.ttftErrorPct), align: 'right' },
      { header: 'USABLE', value: (r) => (r.usable ? 'yes' : 'no') },
      // given: learned from a modelProfile (old-shape objects) as the prior; neutral: from the table.
      { header: 'PRIOR', value: (r) => r.prior },
      { header: 'ESTIMATED', value: (r) => r.estimatedAt ?? '-' },
      { header: 'WHY', value: (r) => r.reason, maxWidth: 100 },
    ],
    rows,
  );
  if (rows.length === 0) out = 'no learned performance models\n';
  for (const r of refused) out += `refused ${r.entry}: ${r.reason}\n`;
  return out;
}

async function readDocument(o: ProfileFlags): Promise<{ text: string; where: string }> {
  if (o.file) {
    try {
      return { text: readFileSync(o.file, 'utf8'), where: `file ${o.file}` };
    } catch (err) {
      throw new UsageError(`cannot read --file ${o.file}: ${(err as Error).message}`);
    }
  }
  const kc = new KubeConfig();
  try {
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot load kubeconfig: ${(err as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new UsageError(
      'no Kubernetes cluster configured (use --kubeconfig, or --file for a saved document)',
    );
  const ns = o.namespace ?? process.env.POD_NAMESPACE ?? DEFAULT_NAMESPACE;
  const where = `ConfigMap ${ns}/${o.configmap}`;
  let data: Record<string, string> | undefined;
  try {
    data = await getConfigMap(kc, ns, o.configmap, { timeoutMs: 10_000 });
  } catch (err) {
    throw new Error(`cannot read ${where}: ${apiErrorMessage(err)}`);
  }
  const text = data?.[LEARNED_CONFIGMAP_KEY];
  if (text === undefined)
    throw new UsageError(
      `${where} ${data ? `has no key ${LEARNED_CONFIGMAP_KEY}` : 'does not exist'}: the controller has not saved learned models there yet (it saves every few cycles once a variant with traffic was observed)`,
    );
  return { text, where };
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description(
      'Print the performance models the controller learned per variant (alpha, beta, gamma, delta, prediction errors, whether the SLO engine may use them), from its ConfigMap or a saved file.',
    )
    .option('--file <path>', 'a document saved by run --learned-file, instead of the cluster')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option(
      '--namespace <ns>',
      `the controller's namespace (default: $POD_NAMESPACE or ${DEFAULT_NAMESPACE})`,
    )
    .option('--configmap <name>', 'the ConfigMap the controller keeps them in', LEARNED_CONFIGMAP)
    .option('--all', 'also estimates older than the retention the controller drops on restore')
    .option('--output <format>', 'table or json', 'table')
    .action(
      action(async (o: ProfileFlags) => {
        if (!['table', 'json'].includes(o.output))
          throw new UsageError(`--output must be table or json, got "${o.output}"`);
        const { text, where } = await readDocument(o);
        const r = restoreLearnedProfiles(text, {
          nowMs: Date.now(),
          retentionMs: o.all ? Number.POSITIVE_INFINITY : DEFAULT_LEARNED_RETENTION_MS,
        });
        if (r.error) throw new Error(`${where}: ${r.error}`);
        const rows = profileRows(r.estimators);
        process.stdout.write(
          o.output === 'json'
            ? `${JSON.stringify({ source: where, variants: rows, refused: r.refused }, null, 2)}\n`
            : formatProfileTable(rows, r.refused),
        );
      }),
    );
}
