// Which Pod objects the saturation engines match the per-pod series against: the Pod informer's in
// the cluster (owners and labels as the API server has them), else, where no Pod objects exist
// (local mode), the owner chain a Deployment writes into its pods' names.
import type { PodMetrics } from '../collector/pods.js';
import type { PodObject } from '../engines/pods.js';
import type { PodView } from '../kube/pods.js';

/**
 * The pod objects the owner chain needs, read from the pods' names: a Deployment's pod is named
 * `<deployment>-<template hash>-<suffix>` and carries the hash as a label, so its ReplicaSet and
 * the Deployment follow. A pod of any other shape matches no variant. Only for sources without
 * Pod objects.
 */
export function podObjectsFromNames(pods: readonly PodMetrics[]): Map<string, PodObject> {
  const out = new Map<string, PodObject>();
  for (const p of pods) {
    const parts = p.pod.split('-');
    if (parts.length < 3) continue;
    const rs = parts.slice(0, -1).join('-');
    out.set(`${p.namespace}/${p.pod}`, {
      name: p.pod,
      namespace: p.namespace,
      labels: { 'pod-template-hash': parts[parts.length - 2] as string },
      ownerReferences: [{ kind: 'ReplicaSet', name: rs, controller: true }],
    });
  }
  return out;
}

/** The Pod objects of `pods`: from the Pod view when there is one (a pod it lacks is left out), else from their names. */
export function podObjectsOf(view: PodView | undefined, pods: readonly PodMetrics[]): Map<string, PodObject> {
  if (!view) return podObjectsFromNames(pods);
  const out = new Map<string, PodObject>();
  for (const p of pods) {
    const o = view.pod(p.namespace, p.pod);
    if (!o) continue;
    out.set(`${p.namespace}/${p.pod}`, {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      ...(o.metadata.labels ? { labels: o.metadata.labels } : {}),
      ...(o.owners ? { ownerReferences: o.owners } : {}),
    });
  }
  return out;
}
