// Kills a Prometheus started by test/support/prometheus.ts the hard way (SIGKILL, as the OOM killer
// or a node failure would), so a test controls how long it stays down; `restart()` of the harness
// then brings it back on the same port with the same data. Only children of this process whose
// command line names the server's listen address are touched.
import { readdirSync, readFileSync } from 'node:fs';
import type { PrometheusServer } from './prometheus.js';

function childPidOf(port: number): number | undefined {
  const want = `--web.listen-address=127.0.0.1:${port}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmd.includes(want)) continue;
      // Field 4 of /proc/<pid>/stat is the parent pid (after the parenthesised command name).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

/** SIGKILLs the server's process and waits until its port refuses connections. */
export async function killPrometheus(server: PrometheusServer): Promise<void> {
  const pid = childPidOf(server.port);
  if (pid === undefined) throw new Error(`no prometheus child listening on ${server.port}`);
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${server.url}/-/healthy`, { signal: AbortSignal.timeout(500) });
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error('prometheus still answering after SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}
