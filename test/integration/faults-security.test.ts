// Security faults (issue 7): TLS verification against a self-signed CA on a real local HTTPS
// server, the loud warning when verification is off, bearer token rotation as the kubelet does it
// (symlink swap of a projected volume), and no secret in logs, errors, conditions or /metrics even
// when Prometheus (or a proxy in front of it) echoes the request back.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/index.js';
import { LocalController } from '../../src/controller/local.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { PrometheusError, PrometheusNetworkError } from '../../src/prometheus/errors.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { runCli } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { type CertFiles, makeCerts, startHttpsPrometheus } from '../support/tls.js';
import { deployment, variant } from '../support/variants.js';

let certs: CertFiles;
let otherCa: CertFiles;

beforeAll(() => {
  certs = makeCerts('wva-test-ca');
  otherCa = makeCerts('some-other-ca');
});

afterAll(() => {
  certs?.remove();
  otherCa?.remove();
});

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d;
  });
  const logger = createLogger({ level: 'debug', destination: stream });
  return { logger, text: () => text };
}

describe('TLS to Prometheus', () => {
  it('verifies by default: the trusted CA passes, no CA or another CA fails with a clear error', async () => {
    const server = await startHttpsPrometheus(certs);
    const clients: PrometheusClient[] = [];
    const make = (o: Partial<ConstructorParameters<typeof PrometheusClient>[0]> = {}) => {
      const c = new PrometheusClient({ url: server.url, timeoutMs: 5000, ...o });
      clients.push(c);
      return c;
    };
    try {
      const ok = await make({ caCertPath: certs.caCertPath }).query('up');
      expect(ok.resultType).toBe('vector');
      expect(server.requests).toBe(1);

      // System roots only: the self-signed CA is not among them.
      const noCa = await make()
        .query('up')
        .catch((e: unknown) => e);
      expect(noCa).toBeInstanceOf(PrometheusNetworkError);
      // The server sends its leaf only, so the chain ends at an issuer nobody trusts.
      expect((noCa as PrometheusNetworkError).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect((noCa as Error).message).toMatch(
        new RegExp(
          `^cannot reach Prometheus at ${server.url}/api/v1/query: unable to verify the first certificate`,
        ),
      );

      const wrongCa = await make({ caCertPath: otherCa.caCertPath })
        .query('up')
        .catch((e: unknown) => e);
      expect(wrongCa).toBeInstanceOf(PrometheusNetworkError);
      expect((wrongCa as PrometheusNetworkError).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect((wrongCa as Error).message).toContain('unable to verify the first certificate');

      // Right CA, wrong name: the certificate is for localhost/127.0.0.1 only.
      const wrongName = await make({ caCertPath: certs.caCertPath, serverName: 'prometheus.example' })
        .query('up')
        .catch((e: unknown) => e);
      expect(wrongName).toBeInstanceOf(PrometheusNetworkError);
      expect((wrongName as PrometheusNetworkError).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect((wrongName as Error).message).toContain('prometheus.example');

      // None of the refused handshakes reached the HTTP layer.
      expect(server.requests).toBe(1);
    } finally {
      for (const c of clients) c.close();
      await server.close();
    }
  });

  it('insecureSkipVerify connects to an unknown CA, and says INSECURE at warn level first', async () => {
    const server = await startHttpsPrometheus(certs);
    const log = capture();
    const c = new PrometheusClient({ url: server.url, insecureSkipVerify: true, logger: log.logger });
    try {
      expect((await c.query('up')).resultType).toBe('vector');
      const warn = log
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .find((l) => /INSECURE/.test(l.msg));
      expect(warn?.level).toBe(40); // pino's warn
      expect(warn?.msg).toMatch(/certificate verification is disabled/);
    } finally {
      c.close();
      await server.close();
    }
  });

  it('the CLI refuses a self-signed Prometheus without the CA, in one line, exit 1', async () => {
    const server = await startHttpsPrometheus(certs);
    try {
      const r = await runCli(['collect', '--prometheus-url', server.url, '--output', 'json']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /^wva-metrics: .*cannot reach Prometheus .*unable to verify the first certificate/,
      );
      const ok = await runCli([
        'collect',
        '--prometheus-url',
        server.url,
        '--prometheus-ca-cert',
        certs.caCertPath,
        '--output',
        'json',
      ]);
      // Past TLS: the (empty) server answers, and the CLI says there is nothing to show.
      expect(ok.stderr).not.toMatch(/certificate|cannot reach/);
    } finally {
      await server.close();
    }
  });
});

describe('bearer token file rotation', () => {
  it('follows a kubelet-style atomic swap of a projected token (..data symlink), over TLS', async () => {
    const server = await startHttpsPrometheus(certs);
    const dir = mkdtempSync(join(tmpdir(), 'wva-projected-'));
    // The layout kubelet writes: token -> ..data/token, ..data -> ..<timestamp> (swapped atomically).
    const publish = (name: string, token: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'token'), token);
      symlinkSync(name, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    publish('..2026_01_01_00_00_00.1', 'token-generation-one');
    symlinkSync('..data/token', join(dir, 'token'));
    const log = capture();
    const c = new PrometheusClient({
      url: server.url,
      caCertPath: certs.caCertPath,
      tokenPath: join(dir, 'token'),
      logger: log.logger,
    });
    try {
      await c.query('up');
      publish('..2026_01_01_01_00_00.2', 'token-generation-two-longer');
      await c.query('up');
      await c.query('up');
      expect(server.authorizations).toEqual([
        'Bearer token-generation-one',
        'Bearer token-generation-two-longer',
        'Bearer token-generation-two-longer',
      ]);
      expect(log.text()).toContain('file changed; using the new token');
      expect(log.text()).not.toContain('token-generation');
    } finally {
      c.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no secret in logs, errors, conditions or /metrics', () => {
  const TOKEN = 'tok3n-Zq8v1xY0-SECRET';
  const PASSWORD = 'pa55w0rd-SECRET';

  it('a Prometheus that answers 401 and echoes the request back does not leak the token', async () => {
    // A proxy in front of Prometheus that puts the request headers into its error page.
    const proxy = await startFaultProxy({
      mode: {
        kind: 'reply',
        status: 401,
        contentType: 'text/plain',
        body: `401 Unauthorized\nAuthorization: Bearer ${TOKEN}\n`,
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'wva-secret-'));
    const manifests = join(dir, 'va.yaml');
    writeFileSync(
      manifests,
      `${stringify(variant('prod', 'llama', 'meta/llama'))}---\n${stringify(deployment('prod', 'llama', 1))}`,
    );
    const tokenPath = join(dir, 'token');
    writeFileSync(tokenPath, TOKEN);
    const log = capture();
    const telemetry = new Telemetry({ collectDefaultMetrics: true });
    const cache = new ModelMetricsCache();
    telemetry.bindCache(cache);
    const prom = new PrometheusClient({
      url: proxy.url.replace('http://', `http://admin:${PASSWORD}@`),
      tokenPath,
      logger: log.logger,
    });
    const collector = new FleetCollector({ prom, cache, observer: telemetry, logger: log.logger });
    const local = new LocalController({ manifests, collector, logger: log.logger, telemetry });
    try {
      const report = await local.runCycle();
      const row = report.rows[0];
      expect(row?.condition?.reason).toBe('PrometheusError');
      expect(row?.condition?.message).toContain('HTTP 401');
      const direct = await prom.query('up').catch((e: unknown) => e);
      expect(direct).toBeInstanceOf(PrometheusError);
      expect((direct as { bodySnippet?: string }).bodySnippet).toContain('Bearer [redacted]');
      const metrics = await telemetry.registry.metrics();
      const everything = [
        log.text(),
        JSON.stringify(report),
        (direct as Error).message,
        String((direct as Error).stack),
        metrics,
      ].join('\n');
      expect(everything).toContain('HTTP 401');
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain(PASSWORD);
    } finally {
      prom.close();
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI at debug level prints neither the token nor the URL password', async () => {
    const proxy = await startFaultProxy({ mode: { kind: 'refuse' } });
    try {
      const r = await runCli(
        ['collect', '--prometheus-url', proxy.url.replace('http://', `http://admin:${PASSWORD}@`)],
        { env: { PROMETHEUS_BEARER_TOKEN: TOKEN, LOG_LEVEL: 'debug' } },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot reach Prometheus');
      expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
      expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
    } finally {
      await proxy.close();
    }
  });
});
