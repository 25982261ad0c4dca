// Prometheus scrape configuration for the emulator's pods, written the way the Prometheus
// Operator renders a ServiceMonitor: each target carries Kubernetes service-discovery meta labels
// (__meta_kubernetes_namespace, __meta_kubernetes_pod_name, ...), and relabelling turns them into
// the `namespace` and `pod` labels. The emulator never emits `namespace` itself.
import { GATEWAY_PATH, type PodTarget } from './emulator.js';

export interface ScrapeConfigOptions {
  /** host:port of the emulator's listener. */
  address: string;
  targets: PodTarget[];
  jobName?: string;
  /** Seconds between scrapes; default 1. */
  scrapeIntervalSeconds?: number;
  /**
   * `static` (default): the pods of now, listed in the config. `http`: Prometheus asks the
   * emulator's /targets every scrape interval, so pods added or removed by a scale are followed,
   * as Kubernetes service discovery would.
   */
  discovery?: 'static' | 'http';
}

/** Target groups in Prometheus' file/HTTP service-discovery JSON shape. */
export function targetGroups(address: string, targets: PodTarget[]) {
  return targets.map((t) => ({
    targets: [address],
    labels: {
      __metrics_path__: t.metricsPath,
      __meta_kubernetes_namespace: t.namespace,
      __meta_kubernetes_pod_name: t.pod,
      __meta_kubernetes_pod_label_app: t.variant,
    },
  }));
}

/** Relabelling a ServiceMonitor generates: meta labels become `namespace`, `pod`, `service`-like labels. */
export const SERVICE_MONITOR_RELABELING = [
  { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
  { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
  { source_labels: ['__meta_kubernetes_pod_label_app'], target_label: 'deployment' },
];

/** One `scrape_configs` entry (as a plain object; JSON is valid YAML). */
export function scrapeJob(o: ScrapeConfigOptions) {
  const interval = `${o.scrapeIntervalSeconds ?? 1}s`;
  return {
    job_name: o.jobName ?? 'vllm-emulator',
    scrape_interval: interval,
    scrape_timeout: interval,
    ...(o.discovery === 'http'
      ? { http_sd_configs: [{ url: `http://${o.address}/targets`, refresh_interval: interval }] }
      : { static_configs: targetGroups(o.address, o.targets) }),
    relabel_configs: SERVICE_MONITOR_RELABELING,
  };
}

/** The gateway's own /metrics (its flow-control queue), as a job of its own. */
export function gatewayScrapeJob(o: Pick<ScrapeConfigOptions, 'address' | 'scrapeIntervalSeconds'>) {
  const interval = `${o.scrapeIntervalSeconds ?? 1}s`;
  return {
    job_name: 'inference-gateway',
    scrape_interval: interval,
    scrape_timeout: interval,
    metrics_path: GATEWAY_PATH,
    static_configs: [{ targets: [o.address] }],
  };
}

/** A whole prometheus.yml scraping the emulator's pods and its gateway. */
export function prometheusConfigYaml(o: ScrapeConfigOptions): string {
  const interval = `${o.scrapeIntervalSeconds ?? 1}s`;
  const lines = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    `  - ${JSON.stringify(scrapeJob(o))}`,
    `  - ${JSON.stringify(gatewayScrapeJob(o))}`,
  ];
  return `${lines.join('\n')}\n`;
}
