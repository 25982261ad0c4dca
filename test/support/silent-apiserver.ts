// An "API server" that accepts TCP connections and then does what `behave` says with each socket
// (by default: nothing, ever), for deadline tests; with a kubeconfig pointing at it.
import { createServer, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface SilentApiServer {
  url: string;
  kubeConfigYaml(): string;
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

export async function startSilentApiServer(behave: (s: Socket) => void = () => {}): Promise<SilentApiServer> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    behave(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const yaml = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });
  return {
    url,
    kubeConfigYaml: () => yaml,
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromString(yaml);
      return kc;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
