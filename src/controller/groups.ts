// The variants of each model in each namespace, for sizing them together: indexed once per cycle,
// and each group's members with their Deployments built once, so every member of a group shares
// one array (and the optimizer sizes the group once). A reconcile outside a cycle scans the source.
import { type Deployment, type VariantAutoscaling, validateSpec } from '../kube/types.js';
import { parseSpec, scaledOf } from '../kube/va-spec.js';
import type { GroupMember } from './decision.js';
import { lookupTarget, type ScaleTargetSource } from './targets.js';

interface Source {
  listVariants(): VariantAutoscaling[];
  getDeployment(namespace: string, name: string): Deployment | undefined | Promise<Deployment | undefined>;
  getScaleTarget?: ScaleTargetSource;
}

interface Preparer {
  prepare(vas: VariantAutoscaling[]): Promise<void>;
}

const groupKey = (namespace: string, modelId: string) => `${namespace}\u0000${modelId}`;

/**
 * Variants not being deleted, by namespace and model: those valid for the SLO engine, or (`all`)
 * every one whose spec parses in either shape (the saturation engines' view of a model).
 */
function indexGroups(vas: VariantAutoscaling[], all = false): Map<string, VariantAutoscaling[]> {
  const out = new Map<string, VariantAutoscaling[]>();
  for (const v of vas) {
    if (v.metadata.deletionTimestamp || typeof v.spec?.modelID !== 'string') continue;
    if (all ? !parseSpec(v.spec, v.metadata.name).ok : validateSpec(v.spec).length > 0) continue;
    const k = groupKey(v.metadata.namespace, v.spec.modelID);
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

export class CycleGroups {
  private index: Map<string, VariantAutoscaling[]> | undefined;
  private built = new Map<string, Promise<GroupMember[]>>();
  private indexAll: Map<string, VariantAutoscaling[]> | undefined;
  private cycleVas: VariantAutoscaling[] | undefined;
  private builtAll = new Map<string, Promise<GroupMember[]>>();

  constructor(
    private readonly source: Source,
    private readonly optimizer?: Preparer,
  ) {}

  /** A cycle begins over these variants. */
  begin(vas: VariantAutoscaling[]): void {
    this.index = indexGroups(vas);
    this.built = new Map();
    this.cycleVas = vas;
    this.indexAll = undefined;
    this.builtAll = new Map();
  }

  end(): void {
    this.index = undefined;
    this.built = new Map();
    this.cycleVas = undefined;
    this.indexAll = undefined;
    this.builtAll = new Map();
  }

  /** Every variant of `va`'s model in its namespace whose spec parses, either shape, with its target. */
  ofModel(va: VariantAutoscaling): Promise<GroupMember[]> {
    const k = groupKey(va.metadata.namespace, va.spec.modelID);
    // Indexed on first use in a cycle: a fleet the SLO engine sizes alone never builds it.
    if (this.cycleVas && !this.indexAll) this.indexAll = indexGroups(this.cycleVas, true);
    const cached = this.indexAll ? this.builtAll.get(k) : undefined;
    if (cached) return cached;
    const vas = (this.indexAll ?? indexGroups(this.source.listVariants(), true)).get(k) ?? [va];
    const built = this.withTargets(vas);
    if (this.indexAll) this.builtAll.set(k, built);
    return built;
  }

  private withTargets(vas: VariantAutoscaling[]): Promise<GroupMember[]> {
    return Promise.all(
      vas.map(async (v) => {
        const { name, kind } = scaledOf(v);
        const deployment = await lookupTarget(this.source, v.metadata.namespace, { ...kind, name });
        return deployment ? { va: v, deployment } : { va: v };
      }),
    );
  }

  /** The variants of `va`'s model in its namespace (itself included), with their Deployments. */
  of(va: VariantAutoscaling): Promise<GroupMember[]> {
    const k = groupKey(va.metadata.namespace, va.spec.modelID);
    const cached = this.index ? this.built.get(k) : undefined;
    if (cached) return cached;
    const vas = (this.index ?? indexGroups(this.source.listVariants())).get(k) ?? [va];
    const built = this.withTargets(vas).then(async (group) => {
      await this.optimizer?.prepare(group.map((m) => m.va));
      return group;
    });
    if (this.index) this.built.set(k, built);
    return built;
  }
}
