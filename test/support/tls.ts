// Certificates for TLS tests, made with the `openssl` command line: a self-signed CA and a server
// certificate it signs for 127.0.0.1/localhost, in a temporary directory. Plus a small HTTPS
// server answering Prometheus-shaped replies and recording the Authorization headers it saw.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  dir: string;
  caCertPath: string;
  caKeyPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
}

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** A CA named `caName` and a server certificate (CN/SAN localhost, 127.0.0.1) signed by it. */
export function makeCerts(caName = 'wva-test-ca'): CertFiles {
  const dir = mkdtempSync(join(tmpdir(), 'wva-tls-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      `/CN=${caName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  );
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    ],
    dir,
  );
  return {
    dir,
    caCertPath: join(dir, 'ca.crt'),
    caKeyPath: join(dir, 'ca.key'),
    serverCertPath: join(dir, 'server.crt'),
    serverKeyPath: join(dir, 'server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HttpsPrometheus {
  url: string;
  /** Authorization headers received, in order. */
  authorizations: Array<string | undefined>;
  /** Completed TLS handshakes that reached the HTTP layer. */
  requests: number;
  close(): Promise<void>;
}

/** An HTTPS server with the given certificate answering every request with an empty vector. */
export async function startHttpsPrometheus(certs: CertFiles): Promise<HttpsPrometheus> {
  const out: HttpsPrometheus = {
    url: '',
    authorizations: [],
    requests: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(
    { cert: readFileSync(certs.serverCertPath), key: readFileSync(certs.serverKeyPath) },
    (req, res) => {
      out.requests++;
      out.authorizations.push(req.headers.authorization);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
      });
    },
  );
  // Handshake failures are the client's to report; keep the server quiet about them.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  out.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return out;
}
