// The ConfigMap layer of `run`'s configuration in a cluster, read once at start.
import type { KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage, getConfigMap } from '../kube/http.js';
import { createLogger } from '../telemetry/logger.js';
import type { ShutdownSignals } from './signals.js';

/** How long `run` waits for the ConfigMap at start before giving up (the pod then restarts). */
const CONFIGMAP_READ_TIMEOUT_MS = 10_000;

/**
 * The ConfigMap layer of the configuration, read once at start; undefined when it does not exist
 * (or a signal came). Says first what it waits for: before it, nothing else is up.
 */
export async function readConfigMap(
  kc: KubeConfig,
  namespace: string,
  name: string,
  signals: ShutdownSignals,
): Promise<Record<string, string> | undefined> {
  const boot = createLogger({ level: 'info' });
  signals.useLogger(boot);
  const what = `ConfigMap ${namespace}/${name}`;
  boot.info(
    { server: kc.getCurrentCluster()?.server, timeoutMs: CONFIGMAP_READ_TIMEOUT_MS },
    `reading ${what} from the API server`,
  );
  try {
    return await getConfigMap(kc, namespace, name, {
      timeoutMs: CONFIGMAP_READ_TIMEOUT_MS,
      signal: signals.signal,
    });
  } catch (err) {
    if (signals.signal.aborted) return undefined;
    throw new Error(
      `cannot read ${what}: ${apiErrorMessage(err)} (check that the API server is reachable and the service account may get it, or pass --no-configmap)`,
    );
  }
}
