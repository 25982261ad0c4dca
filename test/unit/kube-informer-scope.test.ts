import { describe, expect, it } from 'vitest';
import { collectionPath, namespaceScopes } from '../../src/kube/informer.js';

describe('informer scopes and list paths', () => {
  it('runs one informer per namespace listed, or one cluster-wide when none is', () => {
    expect(namespaceScopes(['a', 'b'])).toEqual(['a', 'b']);
    expect(namespaceScopes([])).toEqual([undefined]);
    expect(namespaceScopes(undefined)).toEqual([undefined]);
  });

  it('lists a kind in a namespace (name escaped) or across the cluster, core group or not', () => {
    expect(collectionPath('/api/v1', 'pods', 'team-a')).toBe('/api/v1/namespaces/team-a/pods');
    expect(collectionPath('/api/v1', 'pods', undefined)).toBe('/api/v1/pods');
    expect(collectionPath('/apis/apps/v1', 'deployments', 'a/b')).toBe(
      '/apis/apps/v1/namespaces/a%2Fb/deployments',
    );
    expect(collectionPath('/apis/apps/v1', 'deployments', undefined)).toBe('/apis/apps/v1/deployments');
  });
});
