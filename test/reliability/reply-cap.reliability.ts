// Memory at the Prometheus reply cap: `wva-metrics run` as it ships (built dist/, the image's Node
// flags) in cluster mode against the fake API server, reading a Prometheus stand-in whose fleet
// reply is (a) tiny, (b) just under the cap, (c) just over it. Peak RSS at the cap must stay well
// under the Deployment's 256Mi memory limit; over the cap the reply is refused with one clear line
// and becomes a PrometheusError condition. Prints the figures (bytes-to-RSS ratio included) for
// docs/reliability.md.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_REPLY_BYTES } from '../../src/prometheus/client.js';
import { STATS as STATS_BY_NAME } from '../../src/prometheus/promql.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { imageNodeFlags, repoRoot, shippedClusterRun } from '../support/image.js';
import { deployment, variant } from '../support/variants.js';

const CAP = Number(process.env.WVA_REPLY_CAP_BYTES ?? DEFAULT_MAX_REPLY_BYTES);
const LIMIT_MIB = 256; // deploy/deployment.yaml resources.limits.memory
const TARGET_MIB = 200; // "well under": a fifth of the limit left for what the test does not model
const VAS = 100;
// The statistics the fleet query tags its series with, the newest-sample time last.
const STATS = Object.values(STATS_BY_NAME).filter((s) => s !== STATS_BY_NAME.newestSample);
const PER_PAIR = STATS.length + 1;
const model = (i: number) => `org/model-${String(i).padStart(6, '0')}`;

let dir: string;
let api: FakeApiServer;
let prom: Server;
let reply = '';
let promCalls = 0;

/** A fleet-shaped vector reply (every statistic and a newest-sample time per pair) of about `bytes`. */
function fleetReply(bytes: number): string {
  const head = '{"status":"success","data":{"resultType":"vector","result":[';
  const now = Math.floor(Date.now() / 1000);
  const parts: string[] = [];
  let size = head.length + 4;
  for (let i = 0; ; i++) {
    const pair = Math.floor(i / PER_PAIR);
    const newest = i % PER_PAIR === PER_PAIR - 1;
    const stat = newest ? STATS_BY_NAME.newestSample : (STATS[i % PER_PAIR] as string);
    const value = newest ? String(now) : String(1 + (pair % 97) / 7);
    const s = JSON.stringify({
      metric: { model_name: model(pair), namespace: 'team-1', stat },
      value: [now, value],
    });
    if (size + s.length + 1 > bytes && i >= PER_PAIR) break;
    parts.push(s);
    size += s.length + 1;
  }
  return `${head}${parts.join(',')}]}}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wva-reply-cap-'));
  api = await FakeApiServer.start();
  for (let i = 0; i < VAS; i++) {
    api.put('variantautoscalings', variant('team-1', `va-${i}`, model(i)));
    api.put('deployments', deployment('team-1', `va-${i}`, 1));
  }
  prom = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      promCalls++;
      res.setHeader('Content-Type', 'application/json');
      res.end(reply);
    });
  });
  await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
  execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'ignore' });
}, 5 * 60_000);

afterAll(async () => {
  prom?.closeAllConnections();
  await new Promise((r) => prom?.close(r));
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  peakRssMiB: number;
  cycles: number;
  stderr: string;
  code: number | null;
}

/** Runs the controller until it has done `cycles` cycles, then SIGTERM; peak RSS from the preload. */
async function runController(cycles: number): Promise<Run> {
  const kc = join(dir, 'kubeconfig.yaml');
  writeFileSync(kc, api.kubeConfigYaml());
  const promUrl = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    shippedClusterRun({
      kubeconfig: kc,
      prometheusUrl: promUrl,
      args: [
        '--prometheus-max-reply-bytes',
        String(CAP),
        '--interval',
        '2s',
        '--cache-ttl',
        '1s',
        '--cache-failure-ttl',
        '1s',
      ],
    }),
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const done = () => (stderr.match(/"msg":"reconcile cycle finished"/g) ?? []).length;
  try {
    const t0 = Date.now();
    while (done() < cycles) {
      if (Date.now() - t0 > 120_000) throw new Error(`${done()} cycles after 120 s:\n${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    const code = await exited;
    const m = /"maxRssKiB":(\d+)/.exec(stderr);
    return { peakRssMiB: Math.round(Number(m?.[1]) / 1024), cycles: done(), stderr, code };
  } finally {
    child.kill('SIGKILL');
  }
}

function condition(name: string): { status?: string; reason?: string; message?: string } | undefined {
  const st = api.get('variantautoscalings', 'team-1', name)?.status as
    | { conditions?: Array<{ type: string; status: string; reason: string; message: string }> }
    | undefined;
  return st?.conditions?.find((c) => c.type === 'MetricsAvailable');
}

describe(`the Prometheus reply cap (${CAP} bytes) bounds the controller's memory`, () => {
  it('peak RSS at the cap stays well under the 256Mi limit; over the cap: refused in one line', async () => {
    reply = fleetReply(2000);
    const tiny = await runController(2);
    expect(condition('va-0')?.reason).toBe('MetricsFound');

    reply = fleetReply(CAP - 1024);
    const atCapBytes = Buffer.byteLength(reply);
    const series = (reply.match(/"stat"/g) ?? []).length;
    const callsBefore = promCalls;
    const atCap = await runController(3);
    expect(promCalls - callsBefore).toBeGreaterThanOrEqual(2);
    expect(condition('va-0')?.reason).toBe('MetricsFound');
    expect(atCap.code).toBe(0);

    reply = fleetReply(CAP + 1024 * 1024);
    const over = await runController(2);
    const refusal = condition('va-0');
    expect(refusal?.reason).toBe('PrometheusError');
    expect(refusal?.message).toMatch(
      /sent a reply larger than the .* limit \(maxReplyBytes\); refused unread$/,
    );
    const refusedLines = over.stderr.split('\n').filter((l) => l.includes('larger than the'));
    // One warning per failed refresh, each one line of bounded length.
    expect(refusedLines.length).toBeGreaterThanOrEqual(1);
    for (const l of refusedLines) expect(l.length).toBeLessThan(600);

    const report = {
      capBytes: CAP,
      replyAtCapBytes: atCapBytes,
      seriesAtCap: series,
      pairsAtCap: Math.floor(series / PER_PAIR),
      vas: VAS,
      peakRssMiB: { tinyReply: tiny.peakRssMiB, atCap: atCap.peakRssMiB, overCap: over.peakRssMiB },
      rssPerReplyByte: Number(((atCap.peakRssMiB - tiny.peakRssMiB) / (atCapBytes / 1024 / 1024)).toFixed(1)),
      limitMiB: LIMIT_MIB,
      nodeFlags: imageNodeFlags().join(' '),
    };
    console.log(`REPLYCAP ${JSON.stringify(report)}`);
    expect(atCap.peakRssMiB).toBeLessThan(TARGET_MIB);
    expect(over.peakRssMiB).toBeLessThan(atCap.peakRssMiB);
  });
});
