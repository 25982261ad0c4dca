// The TLS files of the Prometheus client, read and checked when the client is built: a CA bundle
// that is not PEM, or a client certificate and key that do not load, would otherwise fail only at
// the first handshake, and then at every one, with a message that does not name the file.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { PrometheusConfigError } from './errors.js';

export function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PrometheusConfigError(`cannot read Prometheus ${what} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A CA bundle must be PEM certificates: anything else would only fail later, at every handshake. */
export function checkCaBundle(pem: Buffer, path: string): void {
  const blocks = pem.toString('latin1').match(PEM_CERT);
  if (!blocks) {
    throw new PrometheusConfigError(
      `Prometheus CA certificate ${path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
    );
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new PrometheusConfigError(
        `Prometheus CA certificate ${path}: certificate ${i + 1} does not parse (${(err as Error).message})`,
      );
    }
  });
}

export function checkClientPair(cert: Buffer, key: Buffer, certPath: string, keyPath: string): void {
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new PrometheusConfigError(
      `Prometheus client certificate ${certPath} / key ${keyPath} cannot be used: ${(err as Error).message}`,
    );
  }
}
