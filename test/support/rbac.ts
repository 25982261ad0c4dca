// What a request to the (fake) API server needs from RBAC, and whether rendered Roles and
// ClusterRoles grant it: so a test can check that the manifests grant exactly what the code uses.
import type { RequestRecord } from './fake-apiserver.js';
import type { Manifest } from './manifests.js';

const GROUPS: Record<string, string> = {
  variantautoscalings: 'llmd.ai',
  deployments: 'apps',
  configmaps: '',
  events: '',
  leases: 'coordination.k8s.io',
  horizontalpodautoscalers: 'autoscaling',
  statefulsets: 'apps',
  namespaces: '',
  nodes: '',
  pods: '',
  inferencepools: 'inference.networking.x-k8s.io',
};

export interface Access {
  group: string;
  /** plural, or plural/subresource */
  resource: string;
  verb: string;
  namespace?: string;
  name?: string;
}

/** The RBAC access a served request needed (list/watch by `fieldSelector metadata.name=` name it). */
export function accessOf(r: RequestRecord): Access | undefined {
  if (!r.plural) return undefined;
  const verb =
    r.method === 'GET'
      ? r.watch
        ? 'watch'
        : r.name
          ? 'get'
          : 'list'
      : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[
          r.method
        ];
  if (!verb) return undefined;
  const byField = /^metadata\.name=(.+)$/.exec(r.query.fieldSelector ?? '')?.[1];
  const name = r.name ?? byField;
  return {
    group: GROUPS[r.plural] ?? '?',
    resource: r.subresource ? `${r.plural}/${r.subresource}` : r.plural,
    verb,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    ...(name ? { name } : {}),
  };
}

export interface Grant {
  role: string;
  /** undefined: cluster-wide (ClusterRole bound by a ClusterRoleBinding). */
  namespace?: string;
  group: string;
  resource: string;
  verb: string;
  names?: string[];
}

/** One Grant per (rule, group, resource, verb) of every Role and ClusterRole in `objs`. */
export function grants(objs: Manifest[]): Grant[] {
  const out: Grant[] = [];
  for (const o of objs) {
    if (o.kind !== 'Role' && o.kind !== 'ClusterRole') continue;
    for (const rule of o.rules as Manifest[]) {
      for (const group of rule.apiGroups as string[]) {
        for (const resource of rule.resources as string[]) {
          for (const verb of rule.verbs as string[]) {
            out.push({
              role: `${o.kind}/${o.metadata.name}`,
              ...(o.kind === 'Role' ? { namespace: o.metadata.namespace } : {}),
              group,
              resource,
              verb,
              ...(rule.resourceNames ? { names: rule.resourceNames as string[] } : {}),
            });
          }
        }
      }
    }
  }
  return out;
}

export function allows(g: Grant, a: Access): boolean {
  if (g.group !== a.group || g.resource !== a.resource || g.verb !== a.verb) return false;
  if (g.namespace !== undefined && g.namespace !== a.namespace) return false;
  // create cannot be name-restricted (the object does not exist yet); others need a matching name.
  return !g.names || (a.name !== undefined && a.verb !== 'create' && g.names.includes(a.name));
}

export function describeGrant(g: Grant): string {
  return `${g.role}: ${g.group || 'core'}/${g.resource}${g.names ? `[${g.names.join(',')}]` : ''} ${g.verb}`;
}

export function describeAccess(a: Access): string {
  return `${a.group || 'core'}/${a.resource} ${a.verb} ${a.namespace ?? '*'}/${a.name ?? '*'}`;
}

/**
 * The grants that write the learned-model ConfigMap: used only once a controller has learned
 * something (a fleet of profile-less variants with an SLO), as the SLO persistence test proves.
 */
export const LEARNED_WRITE_GRANTS = [
  'Role/wva-metrics: core/configmaps[wva-learned-performance] patch',
  'Role/wva-metrics: core/configmaps create',
];

/** The RBAC accesses the fake API server's recorded requests needed. */
export function accessesOf(requests: readonly RequestRecord[]): Access[] {
  return requests.map(accessOf).filter((a): a is Access => a !== undefined);
}

/** What of `used` no grant in `rendered` allows, described, each once: [] when RBAC grants it all. */
export function deniedAccesses(used: readonly Access[], rendered: readonly Grant[]): string[] {
  return [...new Set(used.filter((a) => !rendered.some((g) => allows(g, a))).map(describeAccess))];
}

/** The grants of `rendered` that nothing in `used` needs, described. */
export function unusedGrants(rendered: readonly Grant[], used: readonly Access[]): string[] {
  return rendered.filter((g) => !used.some((a) => allows(g, a))).map(describeGrant);
}
