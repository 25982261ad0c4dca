// Pods to variants: through the owner chain, else the Deployment's selector; never the model name.
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import {
  matchPodsToVariants,
  type PodObject,
  selectorMatches,
  selectorProblem,
  type VariantTarget,
} from '../../../src/engines/pods.js';

const rec = (pod: string, ns = 'ns'): PodMetrics => ({
  pod,
  modelId: 'llama',
  namespace: ns,
  kvCacheUsage: 0.5,
});
const obj = (name: string, labels: Record<string, string>, extra: Partial<PodObject> = {}): PodObject => ({
  name,
  namespace: 'ns',
  labels,
  ...extra,
});
const objects = (...os: PodObject[]) => new Map(os.map((o) => [`${o.namespace}/${o.name}`, o]));

const a100: VariantTarget = {
  variantName: 'llama-a100',
  namespace: 'ns',
  deploymentName: 'llama-a100',
  selector: { matchLabels: { app: 'llama', variant: 'a100' } },
};
const l4: VariantTarget = {
  variantName: 'llama-l4',
  namespace: 'ns',
  deploymentName: 'llama-l4',
  selector: {
    matchLabels: { app: 'llama' },
    matchExpressions: [{ key: 'variant', operator: 'In', values: ['l4', 'l4-spot'] }],
  },
};

describe('selectorMatches', () => {
  const labels = { app: 'x', tier: 'gpu' };
  it.each([
    [{ matchLabels: { app: 'x' } }, true],
    [{ matchLabels: { app: 'y' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gpu', 'cpu'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gpu'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    [{ matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
  ])('%j -> %s', (sel, want) => {
    expect(selectorMatches(sel, labels)).toBe(want);
  });

  it('names what is wrong with an unusable selector', () => {
    expect(selectorProblem(undefined)).toBe('has no selector');
    expect(selectorProblem({})).toMatch(/empty selector, which would select every pod/);
    expect(selectorProblem({ matchExpressions: [{ key: 'k', operator: 'Has' }] })).toMatch(
      /unknown operator "Has" \(use In, NotIn, Exists or DoesNotExist\)/,
    );
    expect(selectorProblem({ matchExpressions: [{ key: 'k', operator: 'In', values: [] }] })).toMatch(
      /without values/,
    );
    expect(selectorProblem(a100.selector)).toBeNull();
  });
});

describe('matchPodsToVariants', () => {
  it('maps two variants of one model by their selectors, not by the model name they share', () => {
    const r = matchPodsToVariants({
      pods: [rec('a-1'), rec('l-1'), rec('l-2')],
      podObjects: objects(
        obj('a-1', { app: 'llama', variant: 'a100' }),
        obj('l-1', { app: 'llama', variant: 'l4' }),
        obj('l-2', { app: 'llama', variant: 'l4-spot' }),
      ),
      variants: [a100, l4],
    });
    expect(r.byVariant.get('llama-a100')?.map((p) => p.pod)).toEqual(['a-1']);
    expect(r.byVariant.get('llama-l4')?.map((p) => p.pod)).toEqual(['l-1', 'l-2']);
    expect(r.unmatched).toEqual([]);
  });

  it('the owner chain wins over an overlapping selector', () => {
    const broad: VariantTarget = { ...l4, selector: { matchLabels: { app: 'llama' } } };
    const pod = obj(
      'a-1',
      { app: 'llama', variant: 'a100', 'pod-template-hash': '5d8f' },
      { ownerReferences: [{ kind: 'ReplicaSet', name: 'llama-a100-5d8f', controller: true }] },
    );
    const r = matchPodsToVariants({ pods: [rec('a-1')], podObjects: objects(pod), variants: [a100, broad] });
    expect(r.byVariant.get('llama-a100')?.map((p) => p.pod)).toEqual(['a-1']);
    expect(r.byVariant.get('llama-l4')).toEqual([]);
  });

  it('uses a known ReplicaSet owner when the caller has it', () => {
    const pod = obj('x', {}, { ownerReferences: [{ kind: 'ReplicaSet', name: 'rs-odd', controller: true }] });
    const r = matchPodsToVariants({
      pods: [rec('x')],
      podObjects: objects(pod),
      variants: [a100, l4],
      replicaSetOwners: new Map([['ns/rs-odd', 'llama-l4']]),
    });
    expect(r.byVariant.get('llama-l4')?.map((p) => p.pod)).toEqual(['x']);
  });

  it('drops, with a reason, a pod it has no object for, one nobody selects, and one two selectors take', () => {
    const broad: VariantTarget = { ...l4, selector: { matchLabels: { app: 'llama' } } };
    const r = matchPodsToVariants({
      pods: [rec('gone'), rec('other'), rec('both')],
      podObjects: objects(obj('other', { app: 'mistral' }), obj('both', { app: 'llama', variant: 'a100' })),
      variants: [a100, broad],
    });
    expect(r.byVariant.get('llama-a100')).toEqual([]);
    expect(r.unmatched.map((u) => u.reason)).toEqual([
      'pod ns/gone reports metrics but is not among the known pods (deleted, or not yet seen)',
      "pod ns/other is owned by no variant's Deployment and matches no variant's selector",
      "pod ns/both matches the selectors of variants llama-a100, llama-l4; make the Deployments' selectors disjoint",
    ]);
  });

  it('never matches across namespaces or through an empty selector', () => {
    const empty: VariantTarget = { ...a100, variantName: 'empty', selector: {} };
    const r = matchPodsToVariants({
      pods: [rec('a-1', 'other')],
      podObjects: new Map([
        ['other/a-1', { ...obj('a-1', { app: 'llama', variant: 'a100' }), namespace: 'other' }],
      ]),
      variants: [a100, empty],
    });
    expect(r.unmatched).toHaveLength(1);
  });
});
