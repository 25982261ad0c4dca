// The demo's manifests configure its emulated pods: each variant runs its Deployment's vLLM
// container arguments (the model, --max-num-seqs, --max-model-len, ...), as the cluster would.
import { type EmulatorConfig, variantSetup } from '../emulator/index.js';
import type { Deployment } from '../kube/types.js';

interface PodTemplate {
  spec?: { template?: { spec?: { containers?: Array<{ command?: unknown; args?: unknown }> } } };
}

/** The vLLM command line of a Deployment's first container that has one (command and args). */
export function containerArgs(d: Deployment): string[] | undefined {
  const containers = (d as unknown as PodTemplate).spec?.template?.spec?.containers ?? [];
  for (const c of containers) {
    const strings = (x: unknown) =>
      Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
    const command = strings(c.command);
    const args = strings(c.args);
    if (args.length === 0 && command.length === 0) continue;
    // `vllm serve <model> ...` as the command, or the image's entrypoint with only args.
    const serve = command.indexOf('serve');
    return [...(serve >= 0 ? command.slice(serve + 1) : []), ...args];
  }
  return undefined;
}

/**
 * The emulator config with every variant whose Deployment (same namespace and name) lists vLLM
 * arguments running those arguments. Throws when they name hardware or a model the simulator
 * cannot run, with the Deployment's name.
 */
export function withDeploymentArgs(
  config: EmulatorConfig,
  deployments: readonly Deployment[],
): EmulatorConfig {
  const byKey = new Map(deployments.map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d]));
  return {
    ...config,
    models: config.models.map((m) => ({
      ...m,
      variants: m.variants.map((v) => {
        const d = byKey.get(`${m.namespace}/${v.name}`);
        const args = d ? containerArgs(d) : undefined;
        if (!args) return v;
        const next = { ...v, args };
        try {
          variantSetup(m, next);
        } catch (err) {
          throw new Error(`Deployment ${m.namespace}/${v.name}: ${(err as Error).message}`);
        }
        return next;
      }),
    })),
  };
}
