// PrometheusClient over real TLS sockets: CA file, server name, mutual TLS, insecureSkipVerify.
// Certificates: test/fixtures/tls (test-only CA; server cert for DNS name prometheus.test only).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PrometheusClientOptions } from '../../src/prometheus/client.js';
import { PrometheusNetworkError } from '../../src/prometheus/errors.js';
import { captureLogger } from '../support/capture-logger.js';
import { useLocalServers } from '../support/local-servers.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));
const ok = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });
const local = useLocalServers();

async function serveTls(o: { requireClientCert?: boolean } = {}): Promise<{ url: string; peers: string[] }> {
  const peers: string[] = [];
  const srv = createServer(
    {
      cert: readFileSync(fixture('server.crt')),
      key: readFileSync(fixture('server.key')),
      ...(o.requireClientCert
        ? { ca: readFileSync(fixture('ca.crt')), requestCert: true, rejectUnauthorized: true }
        : {}),
    },
    (req, res) => {
      const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
      peers.push(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
      res.setHeader('Content-Type', 'application/json');
      res.end(ok);
    },
  );
  return { url: await local.listen(srv, 'https'), peers };
}

const client = (o: PrometheusClientOptions) => local.client(o);

describe('PrometheusClient TLS', () => {
  it('verifies the server against the CA file and the server name', async () => {
    const { url } = await serveTls();
    const c = client({ url, caCertPath: fixture('ca.crt'), serverName: 'prometheus.test' });
    expect((await c.query('up')).resultType).toBe('vector');
  });

  it('refuses a server the system CAs do not know, naming the URL', async () => {
    const { url } = await serveTls();
    const err = await client({ url, serverName: 'prometheus.test' })
      .query('up')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusNetworkError);
    expect((err as Error).message).toContain(`cannot reach Prometheus at ${url}/api/v1/query:`);
    expect((err as PrometheusNetworkError).code).toMatch(/CERT|SIGNATURE|SELF_SIGNED|UNABLE/);
  });

  it('refuses a certificate for another name', async () => {
    const { url } = await serveTls();
    const err = await client({ url, caCertPath: fixture('ca.crt') })
      .query('up')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusNetworkError);
    expect((err as PrometheusNetworkError).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('presents the client certificate for mutual TLS', async () => {
    const { url, peers } = await serveTls({ requireClientCert: true });
    const withCert = client({
      url,
      caCertPath: fixture('ca.crt'),
      serverName: 'prometheus.test',
      clientCertPath: fixture('client.crt'),
      clientKeyPath: fixture('client.key'),
    });
    await withCert.query('up');
    expect(peers).toEqual(['wva-metrics']);
    const without = client({ url, caCertPath: fixture('ca.crt'), serverName: 'prometheus.test' });
    await expect(without.query('up')).rejects.toBeInstanceOf(PrometheusNetworkError);
  });

  it('needs both client certificate and key', () => {
    expect(() => client({ url: 'https://p', clientCertPath: fixture('client.crt') })).toThrow(
      'Prometheus mutual TLS needs both clientCertPath and clientKeyPath',
    );
  });

  it('skips verification only when told to, with a loud warning', async () => {
    const { url } = await serveTls();
    const { logger, lines } = captureLogger();
    const c = client({ url, insecureSkipVerify: true, logger });
    expect((await c.query('up')).resultType).toBe('vector');
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.msg ?? '');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^INSECURE: Prometheus TLS certificate verification is disabled/);
  });
});
