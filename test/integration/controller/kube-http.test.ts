// The one HTTP path to the API server (src/kube/http.ts): every call the controller makes
// goes over it, and every call has a deadline for the whole request, so an API server that accepts
// connections and then answers nothing (or a byte at a time) holds nothing up.
import type { Socket } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { ConfigMapWatch } from '../../../src/controller/kube.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import { KubeTimeoutError, kubeRequest, kubeWatch } from '../../../src/kube/http.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { startSilentApiServer } from '../../support/silent-apiserver.js';
import { deployment, foundReading, vaObject, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server that accepts and then does `behave` with each socket (nothing, or a trickle). */
async function tarpit(behave?: (s: Socket) => void): Promise<KubeConfig> {
  const api = await startSilentApiServer(behave);
  cleanups.push(() => api.close());
  return api.kubeConfig();
}

/** Headers at once, then one byte of body every 20 ms, for ever: never idle, never done. */
function trickle(s: Socket): void {
  s.once('data', () => {
    s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    const t = setInterval(() => s.write('1\r\n \r\n'), 20);
    s.on('close', () => clearInterval(t));
  });
}

describe('whole-request deadlines', () => {
  it('a server that accepts and never answers: the request fails at its deadline', async () => {
    const kc = await tarpit();
    const err = await kubeRequest(kc, { method: 'GET', path: '/api/v1/namespaces', timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeTimeoutError);
    expect((err as Error).message).toBe(
      'GET /api/v1/namespaces: no answer from the API server within 300 ms',
    );
  });

  it('a body trickled a byte at a time (never idle) still ends at the deadline', async () => {
    const kc = await tarpit(trickle);
    const err = await kubeRequest(kc, { method: 'GET', path: '/api/v1/namespaces', timeoutMs: 400 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeTimeoutError);
  });

  it('a watch whose headers never come fails at its deadline, as a TimeoutError', async () => {
    const kc = await tarpit();
    const err = await kubeWatch(kc, '/api/v1/configmaps', {}, () => {}, { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('a status patch to a silent server ends with the caller abort, as one failed write', async () => {
    const kc = await tarpit();
    const writer = new KubeStatusWriter({ kubeConfig: kc });
    const va = vaObject('prod', 'va', 'm');
    va.metadata.resourceVersion = '1';
    const err = await writer
      .write(va, () => ({ conditions: [] }), AbortSignal.timeout(300))
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^status patch of prod\/va failed/);
  });
});

describe('one HTTP path', () => {
  it('lists, watches, status patches and re-reads, the Lease and the ConfigMap all go over it', async () => {
    const api = await FakeApiServer.start();
    cleanups.push(() => api.close());
    for (let i = 0; i < 3; i++) {
      api.put('variantautoscalings', variant('prod', `va-${i}`, 'm'));
      api.put('deployments', deployment('prod', `va-${i}`, 1));
    }
    api.put('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'wva' },
      data: { a: '1' },
    });
    // A 409 on the first patch: the writer re-reads the object.
    api.inject({ method: 'PATCH', plural: 'variantautoscalings', subresource: 'status', status: 409 });
    const seen: Array<Record<string, string> | undefined> = [];
    const cm = new ConfigMapWatch({
      kubeConfig: api.kubeConfig(),
      namespace: 'wva',
      name: 'cfg',
      onData: (d) => seen.push(d),
    });
    cm.start();
    cleanups.push(() => cm.stop());
    const controller = new Controller({
      kubeConfig: api.kubeConfig(),
      collector: { read: async (m, ns) => foundReading(m, ns) },
      intervalMs: 3_600_000,
      leaderElection: { namespace: 'wva', name: 'lease', identity: 'me' },
    });
    cleanups.push(() => controller.stop());
    await controller.start();
    const written = (i: number) =>
      (api.get('variantautoscalings', 'prod', `va-${i}`)?.status as { currentAlloc?: unknown } | undefined)
        ?.currentAlloc !== undefined;
    await until(
      () => [0, 1, 2].every(written) && seen.length > 0,
      'statuses written and ConfigMap seen',
      10_000,
    );
    const kinds = new Set(
      api.requests.map(
        (r) => `${r.method} ${r.plural}${r.subresource ? `/${r.subresource}` : ''}${r.watch ? ' watch' : ''}`,
      ),
    );
    for (const k of [
      'GET variantautoscalings',
      'GET variantautoscalings watch',
      'GET deployments watch',
      'PATCH variantautoscalings/status',
      'GET configmaps watch',
      'POST leases',
    ]) {
      expect(kinds, k).toContain(k);
    }
    // Every request carried our client's user agent: none went through another HTTP client.
    expect(new Set(api.requests.map((r) => r.userAgent))).toEqual(new Set(['wva-metrics']));
    // The watches asked the server to end them in time (the informer then re-watches).
    expect(api.requests.filter((r) => r.watch).every((r) => r.query.timeoutSeconds === '300')).toBe(true);
  });
});
