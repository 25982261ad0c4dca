// An EPP-style metrics endpoint served in-process: whatever text `page` holds, in the Prometheus
// text format, at /metrics. Tests and the scale-from-zero benchmark set `page` to make demand
// appear or go.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const QUEUE_SIZE_METRIC = 'inference_extension_flow_control_queue_size';

export interface EppPage {
  /** The metrics URL. */
  readonly url: string;
  /** What the next scrape gets. */
  page: string;
  /** The HTTP status of the next answer; default 200. */
  status: number;
  /** Scrapes served. */
  requests: number;
  close(): Promise<void>;
}

export async function startEppPage(page = ''): Promise<EppPage> {
  const epp = { url: '', page, status: 200, requests: 0, close: async () => {} };
  const server = createServer((_req, res) => {
    epp.requests++;
    res.writeHead(epp.status, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(epp.page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  epp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  epp.close = () => new Promise<void>((r) => server.close(() => r()));
  return epp;
}

/** A page of gateway queue sizes, model -> queued requests. */
export function queuePage(queued: Record<string, number>): string {
  const lines = Object.entries(queued).map(
    ([model, n]) => `${QUEUE_SIZE_METRIC}{target_model_name=${JSON.stringify(model)}} ${n}`,
  );
  return [`# TYPE ${QUEUE_SIZE_METRIC} gauge`, ...lines, ''].join('\n');
}
