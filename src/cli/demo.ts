// `wva-metrics demo` (what `npm run demo` runs): emulated vLLM pods, a real Prometheus, and the
// controller in local mode over examples/, with a live table per cycle and a summary at the end.
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { DEFAULT_SCENARIO, findScenario, runDemo, SCENARIOS } from '../demo/index.js';
import { prometheusOnPath } from '../demo/prometheus.js';
import { type DurationError, parseDuration } from '../duration.js';
import { EmulatorConfigError } from '../emulator/index.js';
import { createLogger, parseLogLevel } from '../telemetry/logger.js';
import { formatCycle, formatReady, formatSummary } from './demo-format.js';
import { action, UsageError } from './errors.js';

const examples = (p: string) => fileURLToPath(new URL(`../../examples/${p}`, import.meta.url));

function duration(flag: string, min: number) {
  return (v: string): number => {
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch (err) {
      throw new UsageError(`--${flag} "${v}": ${(err as DurationError).message} (e.g. 5s, 1m)`);
    }
    if (ms < min) throw new UsageError(`--${flag} must be at least ${min / 1000}s, got "${v}"`);
    return ms;
  };
}

function seconds(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new UsageError(`--${flag} must be a number of seconds > 0, got "${v}"`);
    return n;
  };
}

interface DemoCliOptions {
  manifests?: string;
  emulatorConfig: string;
  interval: string;
  window: string;
  cacheTtl?: number;
  duration?: number;
  scrapeInterval: number;
  prometheus: string;
  metricsAddr: string;
  logLevel: string;
  scenario: string;
  stabilizationWindow: string;
  saturationFloor: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Emulated vLLM pods + a real Prometheus + the controller in local mode over examples/, closing the loop: the controller sizes each variant and scales the emulated Deployments. A live table per cycle, a summary at the end (Ctrl-C or --duration).',
    )
    .option(
      '--duration <seconds>',
      "stop after this many seconds (default: the scenario's length; 0: run until Ctrl-C)",
      (v: string) => (v === '0' ? 0 : seconds('duration')(v)),
    )
    .addOption(
      new Option(
        '--scenario <name>',
        `load scenario: ${SCENARIOS.map((x) => `${x.name} (${x.description})`).join('; ')}`,
      )
        .choices(SCENARIOS.map((x) => x.name))
        .default(DEFAULT_SCENARIO),
    )
    .addOption(
      new Option(
        '--stabilization-window <duration>',
        "the demo controller's scale-down stabilisation window",
      ).default('60s', '60s'),
    )
    .option('--no-saturation-floor', 'saturation V1 is no floor under the SLO engine (it is in `run`)')
    // Shown as written (5s), not as commander quotes a string default ("5s").
    .addOption(new Option('--interval <duration>', 'reconcile interval').default('5s', '5s'))
    .addOption(new Option('--window <duration>', 'PromQL rate() window').default('30s', '30s'))
    .option(
      '--cache-ttl <duration>',
      'cache TTL (default: half the interval, at least 5s, and below the interval so each cycle queries once)',
      duration('cache-ttl', 100),
    )
    .addOption(
      new Option(
        '--manifests <path>',
        "VariantAutoscaling/Deployment manifests (default: the scenario's, under the package's examples/: examples/learned/manifests for learned, examples/manifests for the others)",
      ),
    )
    .addOption(
      new Option('--emulator-config <file>', 'emulator config').default(
        examples('emulator.yaml'),
        "the package's examples/emulator.yaml",
      ),
    )
    .option('--scrape-interval <seconds>', 'Prometheus scrape interval', seconds('scrape-interval'), 1)
    .option('--prometheus <binary>', 'Prometheus binary', 'prometheus')
    .option('--metrics-addr <addr>', "listen address of the demo's own /metrics (wva_*)", '127.0.0.1:0')
    .option('--log-level <level>', 'controller log level (logs go to stderr)', 'warn')
    .action(
      action(async (o: DemoCliOptions) => {
        const intervalMs = duration('interval', 1000)(o.interval);
        const stabilizationWindowMs = duration('stabilization-window', 0)(o.stabilizationWindow);
        const scenario = findScenario(o.scenario);
        const durationMs = o.duration === undefined ? scenario.durationMs : o.duration * 1000;
        duration('window', 1000)(o.window);
        let level: string;
        try {
          level = parseLogLevel(o.logLevel);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        if (!prometheusOnPath(o.prometheus)) {
          throw new Error(
            `Prometheus not found ("${o.prometheus}"): install it (Debian/Ubuntu: sudo apt-get install prometheus; elsewhere: https://prometheus.io/download/) or pass --prometheus <path>`,
          );
        }
        const abort = new AbortController();
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          if (signals > 1) process.exit(130); // Prometheus is killed by the exit hook
          process.stderr.write(`\n${sig}: stopping (again to force)...\n`);
          abort.abort(new Error(sig));
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const result = await runDemo({
            manifests: o.manifests ?? examples(scenario.manifests ?? 'manifests'),
            emulator: o.emulatorConfig,
            intervalMs,
            window: o.window,
            ...(o.cacheTtl !== undefined ? { cacheTtlMs: o.cacheTtl } : {}),
            ...(durationMs > 0 ? { durationMs } : {}),
            scenario,
            stabilizationWindowMs,
            saturationFloor: o.saturationFloor,
            scrapeIntervalSeconds: o.scrapeInterval,
            prometheusBinary: o.prometheus,
            metricsAddress: o.metricsAddr,
            signal: abort.signal,
            logger: createLogger({ level }),
            onProgress: (m) => process.stderr.write(`${m}...\n`),
            onReady: (info) =>
              process.stdout.write(
                `scenario:   ${scenario.name}: ${scenario.description}; new pods start in ${scenario.startupDelayMs / 1000}s\n${formatReady(info)}`,
              ),
            onCycle: (c) => process.stdout.write(formatCycle(c)),
          });
          process.stdout.write(formatSummary(result.summary));
        } catch (err) {
          if (err instanceof EmulatorConfigError) throw new UsageError(err.message);
          throw err;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}
