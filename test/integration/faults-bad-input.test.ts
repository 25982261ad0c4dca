// Bad configuration and bad command lines (issue 7): every one ends with exactly one line on
// stderr that names the problem, no stack trace, and a non-zero exit -- through the real CLI.
// Nothing here needs Prometheus: each case fails before the first query.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../support/cli.js';
import { variant } from '../support/variants.js';

let dir: string;
let manifests: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wva-badinput-'));
  manifests = join(dir, 'va.yaml');
  writeFileSync(manifests, stringify(variant('prod', 'llama', 'meta/llama')));
  writeFileSync(join(dir, 'broken.yaml'), 'WVA_CACHE_TTL: [unclosed\n');
  writeFileSync(join(dir, 'negative.yaml'), 'WVA_CACHE_MAX_ENTRIES: "-1"\n');
  writeFileSync(join(dir, 'notyaml.yaml'), '- just\n- a list\n');
  writeFileSync(
    join(dir, 'bad-va.yaml'),
    'apiVersion: llmd.ai/v1alpha1\nkind: VariantAutoscaling\nmetadata: [\n',
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PROM = ['--prometheus-url', 'http://127.0.0.1:1'];

// [what, args, env, a pattern the one line must match]
const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
  ['unknown flag', ['run', '--frobnicate'], {}, /unknown option '--frobnicate'/],
  ['bad duration flag', ['collect', ...PROM, '--cache-ttl', 'banana'], {}, /WVA_CACHE_TTL|cache-ttl/],
  [
    'negative timeout',
    ['collect', ...PROM, '--prometheus-timeout', '-5s'],
    {},
    /WVA_PROMETHEUS_TIMEOUT|timeout/,
  ],
  ['not a URL', ['collect', '--prometheus-url', 'prometheus:9090'], {}, /PROMETHEUS_BASE_URL|URL/],
  [
    'bad output format',
    ['run', '--manifests', 'X', ...PROM, '--output', 'yaml'],
    {},
    /--output must be table or json/,
  ],
  ['--once without --manifests', ['run', '--once', ...PROM], {}, /--once needs --manifests/],
  [
    'missing config file',
    ['run', '--manifests', 'X', ...PROM, '--config', '/nonexistent/wva.yaml'],
    {},
    /nonexistent/,
  ],
  [
    'config file not YAML',
    ['run', '--manifests', 'X', ...PROM, '--config', 'DIR/broken.yaml'],
    {},
    /broken\.yaml/,
  ],
  ['config file a list', ['run', '--manifests', 'X', ...PROM, '--config', 'DIR/notyaml.yaml'], {}, /mapping/],
  [
    'negative max entries',
    ['run', '--manifests', 'X', ...PROM, '--config', 'DIR/negative.yaml'],
    {},
    /WVA_CACHE_MAX_ENTRIES/,
  ],
  [
    'bad namespace env',
    ['run', '--manifests', 'X', ...PROM],
    { WVA_WATCH_NAMESPACES: 'Prod_EU' },
    /"Prod_EU" is not a namespace name/,
  ],
  ['bad log level env', ['collect', ...PROM], { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ['unreadable manifests', ['run', '--manifests', 'DIR/bad-va.yaml', ...PROM, '--once'], {}, /bad-va\.yaml/],
  ['missing manifests', ['run', '--manifests', 'DIR/none.yaml', ...PROM, '--once'], {}, /none\.yaml/],
];

describe('bad config and bad flags: one clear line, exit 2 (as the README says)', () => {
  it.each(cases)(
    '%s',
    async (_what, args, env, pattern) => {
      const argv = args.map((a) => a.replace('DIR', dir).replace(/^X$/, manifests));
      const r = await runCli(argv, { env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'error' } });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(lines[0]).not.toMatch(/\bat \S+:\d+:\d+|TypeError|undefined/);
      expect(r.stdout).toBe('');
    },
    30_000,
  );
});
