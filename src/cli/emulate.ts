// `wva-metrics emulate`: simulated vLLM pods serving vLLM's /metrics, configured by a YAML file
// or flags, until SIGINT/SIGTERM.
import type { Command } from 'commander';
import {
  configFromFlags,
  type EmulatorConfig,
  EmulatorConfigError,
  loadEmulatorConfig,
  prometheusConfigYaml,
  startEmulatorServer,
  VllmEmulator,
} from '../emulator/index.js';
import { addEngineFlags, type EngineOptions, vllmArgsFromOptions } from './engine-flags.js';
import { action, UsageError } from './errors.js';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}
function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number >= 0, got "${v}"`);
    return n;
  };
}

interface EmulateOptions extends EngineOptions {
  startupDelay?: string;
  trace?: string;
  config?: string;
  model?: string[];
  namespace: string;
  variants: number;
  replicas: number;
  rate: number;
  pattern: string;
  period?: string;
  inputTokens: number;
  outputTokens: number;
  seed?: number;
  tick?: string;
  host: string;
  port: number;
  printScrapeConfig?: boolean;
  scrapeInterval: number;
  vllmMetrics?: string;
}

const METRIC_NAMINGS = ['current', 'transitional', 'legacy'] as const;

/** The vLLM flags given, as a container's args list. */
function vllmArgsToFlags(o: EmulateOptions): string[] {
  const a = vllmArgsFromOptions({ ...o, gpus: undefined });
  const flags: Array<[string, number | undefined]> = [
    ['--max-num-seqs', a.maxNumSeqs],
    ['--max-num-batched-tokens', a.maxNumBatchedTokens],
    ['--gpu-memory-utilization', a.gpuMemoryUtilization],
    ['--block-size', a.blockSize],
    ['--max-model-len', a.maxModelLen],
    ['--tensor-parallel-size', a.tensorParallelSize],
  ];
  return flags.flatMap(([f, v]) => (v === undefined ? [] : [f, String(v)]));
}

export function emulatorConfigFromOptions(o: EmulateOptions): EmulatorConfig {
  const names = o.vllmMetrics;
  if (names !== undefined && !(METRIC_NAMINGS as readonly string[]).includes(names)) {
    throw new UsageError(`--vllm-metrics must be current, transitional or legacy, got "${names}"`);
  }
  const withNames = (cfg: EmulatorConfig): EmulatorConfig =>
    names === undefined ? cfg : { ...cfg, vllmMetrics: names as EmulatorConfig['vllmMetrics'] };
  try {
    if (o.config) {
      if (o.model) throw new UsageError('give either --config or --model, not both');
      if (o.accelerator || o.gpus || o.modelConfig || o.trace || vllmArgsToFlags(o).length > 0)
        throw new UsageError(
          'with --config, give the accelerator, vLLM arguments and traces in the config (accelerator, gpus, args, trace), not as flags',
        );
      const cfg = loadEmulatorConfig(o.config);
      return withNames(o.seed === undefined ? cfg : { ...cfg, seed: o.seed });
    }
    if (!['steady', 'diurnal', 'spikes'].includes(o.pattern)) {
      throw new UsageError(`--pattern must be steady, diurnal or spikes, got "${o.pattern}"`);
    }
    return withNames(
      configFromFlags({
        models: o.model ?? ['meta-llama/Llama-3.1-8B-Instruct'],
        namespace: o.namespace,
        variants: o.variants,
        replicas: o.replicas,
        rate: o.rate,
        pattern: o.pattern as 'steady',
        ...(o.period ? { period: o.period } : {}),
        inputTokens: o.inputTokens,
        outputTokens: o.outputTokens,
        seed: o.seed ?? 1,
        ...(o.tick ? { tick: o.tick } : {}),
        ...(o.accelerator ? { accelerator: o.accelerator } : {}),
        ...(o.gpus ? { gpus: o.gpus } : {}),
        vllmArgs: vllmArgsToFlags(o),
        ...(o.startupDelay ? { startupDelay: o.startupDelay } : {}),
        ...(o.modelConfig ? { modelConfig: o.modelConfig } : {}),
        ...(o.trace ? { trace: o.trace } : {}),
      }),
    );
  } catch (err) {
    if (err instanceof EmulatorConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export function registerEmulate(program: Command): void {
  const cmd = program
    .command('emulate')
    .description(
      'Serve simulated vLLM metrics for many models, variants and pods (one path per pod) until Ctrl-C.',
    )
    .option('-c, --config <file>', 'emulator YAML config (see examples/emulator.yaml)')
    .option('--model <id...>', 'model ids to emulate (without --config)')
    .option('--namespace <ns>', 'namespace of the emulated pods (without --config)', 'default')
    .option('--variants <n>', 'variants per model (without --config)', int('variants', 1), 2)
    .option('--replicas <n>', 'pods per variant (without --config)', int('replicas', 0), 2)
    .option('--rate <req/min>', 'arrival rate per model, requests per minute', num('rate'), 120)
    .option('--pattern <p>', 'load pattern: steady | diurnal | spikes', 'steady')
    .option('--period <duration>', 'diurnal period or mean gap between spikes, e.g. 10m')
    .option('--input-tokens <n>', 'mean prompt tokens per request', num('input-tokens'), 512)
    .option('--output-tokens <n>', 'mean generated tokens per request', num('output-tokens'), 128)
    .option('--seed <n>', 'random seed (same seed, same metrics)', int('seed', 0))
    .option('--tick <duration>', 'simulation step, e.g. 1s')
    .option('--startup-delay <duration>', 'how long a new pod takes before it serves, e.g. 90s')
    .option(
      '--trace <file>',
      'replay requests from lines "arrival_s, input_tokens, output_tokens" (without --config)',
    )
    .option(
      '--vllm-metrics <names>',
      "vLLM metric names the pods export: current (vLLM >= 0.12, default), transitional (new and deprecated names side by side, as 0.10 and 0.11) or legacy (before 0.10); a model's own vllmMetrics in --config wins",
    )
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port (0: any free port)', int('port', 0), 8000)
    .option(
      '--print-scrape-config',
      'print a prometheus.yml scraping every pod (namespace via relabelling) and exit',
    )
    .option(
      '--scrape-interval <seconds>',
      'scrape interval for --print-scrape-config',
      num('scrape-interval'),
      1,
    );
  addEngineFlags(cmd, undefined).action(
    action(async (o: EmulateOptions) => {
      const config = emulatorConfigFromOptions(o);
      const emulator = new VllmEmulator(config);
      if (o.printScrapeConfig) {
        const address = `${o.host}:${o.port}`;
        process.stdout.write(
          prometheusConfigYaml({
            address,
            targets: emulator.targets(),
            scrapeIntervalSeconds: o.scrapeInterval,
          }),
        );
        return;
      }
      const server = await startEmulatorServer(emulator, { host: o.host, port: o.port });
      process.stdout.write(
        `emulating ${emulator.pods.length} vLLM pods of ${emulator.models.length} models on ${server.url}\n` +
          `  pods:      ${server.url}/pods/<namespace>/<pod>/metrics (list: ${server.url}/)\n` +
          `  discovery: ${server.url}/targets (Prometheus http_sd_configs)\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      process.stdout.write('emulator stopped\n');
    }),
  );
}
