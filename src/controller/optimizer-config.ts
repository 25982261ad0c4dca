// The optimizer ConfigMaps as the controller keeps them: service-classes-config and
// accelerator-unit-costs (watched, in the controller's namespace; in local mode from the
// manifests), and the sloClassRef ConfigMaps in VariantAutoscalings' namespaces (read on demand,
// once per cycle). A bad edit keeps the last good version and says so; a deleted one is missing.

import { formatTime } from '../kube/conditions.js';
import {
  type Parsed,
  parseServiceClasses,
  parseUnitCosts,
  SERVICE_CLASSES_CONFIGMAP,
  type ServiceClass,
  UNIT_COSTS_CONFIGMAP,
} from '../optimizer/index.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { ConfigMapState, OptimizerConfigMaps } from './decision.js';

export type ConfigMapData = Record<string, string>;

/** Reads a ConfigMap's data; undefined when it does not exist. */
export type ConfigMapFetcher = (namespace: string, name: string) => Promise<ConfigMapData | undefined>;

export interface OptimizerConfigStoreOptions {
  /** Where service-classes-config and accelerator-unit-costs live (for messages). */
  namespace: string;
  logger?: Logger;
  now?: () => Date;
  /** Reads sloClassRef ConfigMaps in VA namespaces; absent: only the two shared ConfigMaps count. */
  fetch?: ConfigMapFetcher;
}

export class OptimizerConfigStore implements OptimizerConfigMaps {
  serviceClasses: ConfigMapState<ServiceClass[]>;
  unitCosts: ConfigMapState<Record<string, number>>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private namespaceMaps = new Map<string, ConfigMapData | undefined>();
  private pending = new Map<string, Promise<void>>();
  private fetchWarned = false;

  constructor(private readonly o: OptimizerConfigStoreOptions) {
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? (() => new Date());
    this.serviceClasses = { problem: this.missing(SERVICE_CLASSES_CONFIGMAP) };
    this.unitCosts = { problem: this.missing(UNIT_COSTS_CONFIGMAP) };
  }

  private missing(name: string): string {
    return `ConfigMap ${this.o.namespace}/${name} not found`;
  }

  private update<T>(
    name: string,
    state: ConfigMapState<T>,
    data: ConfigMapData | undefined,
    parse: (d: ConfigMapData) => Parsed<T>,
  ): ConfigMapState<T> {
    if (data === undefined) {
      if (state.value !== undefined) this.log.warn({ configMap: name }, 'optimizer ConfigMap deleted');
      return { problem: this.missing(name) };
    }
    const parsed = parse(data);
    if (parsed.ok) {
      if (state.problem) this.log.info({ configMap: name }, 'optimizer ConfigMap accepted');
      return { value: parsed.value };
    }
    const why = parsed.problems.join('; ');
    this.log.warn({ configMap: name, problems: parsed.problems }, 'optimizer ConfigMap edit refused');
    if (state.value === undefined)
      return { problem: `ConfigMap ${this.o.namespace}/${name} is invalid: ${why}` };
    return {
      value: state.value,
      problem: `ConfigMap ${this.o.namespace}/${name}: an edit at ${formatTime(this.now())} was refused (${why}); the last good version is in use`,
    };
  }

  /** New data of service-classes-config (undefined: deleted). */
  setServiceClasses(data: ConfigMapData | undefined): void {
    this.serviceClasses = this.update(
      SERVICE_CLASSES_CONFIGMAP,
      this.serviceClasses,
      data,
      parseServiceClasses,
    );
  }

  /** New data of accelerator-unit-costs (undefined: deleted). */
  setUnitCosts(data: ConfigMapData | undefined): void {
    this.unitCosts = this.update(UNIT_COSTS_CONFIGMAP, this.unitCosts, data, parseUnitCosts);
  }

  /** Local mode: the ConfigMaps a manifest set holds, by namespace/name. */
  setNamespaceConfigMaps(maps: Map<string, ConfigMapData>): void {
    this.namespaceMaps = new Map(maps);
  }

  namespaceConfigMap(namespace: string, name: string): ConfigMapData | undefined {
    return this.namespaceMaps.get(`${namespace}/${name}`);
  }

  /** A new cycle: sloClassRef ConfigMaps are read again when next needed. */
  beginCycle(): void {
    if (!this.o.fetch) return;
    this.namespaceMaps.clear();
    this.pending.clear();
  }

  /** Reads the sloClassRef ConfigMap `namespace/name` once per cycle (no-op without a fetcher). */
  prepare(namespace: string, name: string): Promise<void> {
    const fetch = this.o.fetch;
    if (!fetch) return Promise.resolve();
    const key = `${namespace}/${name}`;
    let p = this.pending.get(key);
    if (!p) {
      p = fetch(namespace, name).then(
        (data) => {
          this.namespaceMaps.set(key, data);
        },
        (err: unknown) => {
          // Unreadable (RBAC, API down): the shared service classes still apply; said once.
          this.namespaceMaps.set(key, undefined);
          if (!this.fetchWarned) {
            this.fetchWarned = true;
            this.log.warn(
              { configMap: key, err: (err as Error).message },
              'cannot read sloClassRef ConfigMap',
            );
          }
        },
      );
      this.pending.set(key, p);
    }
    return p;
  }
}
