// Emulator configuration: a YAML file or flags, validated with zod into one plain object.
// Durations are Go/Prometheus style strings (`30s`, `1m30s`, `500ms`) or numbers of seconds.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type DurationError, parseDuration } from '../duration.js';
import {
  type EngineSetup,
  engineSetup,
  loadTrace,
  type ModelSpec,
  modelFromConfig,
  parseVllmArgs,
} from '../simulator/index.js';

/** A duration: a string like `30s` or a number of seconds. Becomes milliseconds. */
const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  try {
    return parseDuration(v);
  } catch (err) {
    const why = (err as DurationError).message;
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a duration: ${why} (use e.g. 30s, 1m30s, 500ms)`,
    });
    return z.NEVER;
  }
});
const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0');

const steady = z.strictObject({
  pattern: z.literal('steady'),
  /** Requests per minute, for the model in its namespace (all variants and pods together). */
  rate: z.number().nonnegative(),
});
const diurnal = z.strictObject({
  pattern: z.literal('diurnal'),
  /** Mean requests per minute. */
  rate: z.number().nonnegative(),
  /** Swing as a fraction of the mean (0..1): the rate moves between rate*(1-a) and rate*(1+a). */
  amplitude: z.number().min(0).max(1).default(0.5),
  /** Length of one "day"; short periods make the demo move. */
  period: positiveDuration.default(86_400_000),
  /** Shifts the curve; at phase 0 the rate starts at the mean and rises. */
  phase: duration.default(0),
});
const spikes = z.strictObject({
  pattern: z.literal('spikes'),
  /** Requests per minute between spikes. */
  rate: z.number().nonnegative(),
  /** Rate multiplier during a spike. */
  factor: z.number().min(1).default(3),
  /** Mean gap between spike starts; each gap is drawn (seeded) from 0.5x..1.5x of it. */
  every: positiveDuration.default(120_000),
  /** How long each spike lasts. */
  duration: positiveDuration.default(15_000),
});
const step = z.strictObject({
  pattern: z.literal('step'),
  /** Requests per minute before the first step. */
  rate: z.number().nonnegative(),
  /** From `at` (time since start) on, the rate is `rate`, until the next step; in time order. */
  steps: z
    .array(z.strictObject({ at: duration, rate: z.number().nonnegative() }))
    .min(1)
    .refine(
      (s) => s.every((x, i) => i === 0 || x.at > s[i - 1]!.at),
      'steps must be in increasing `at` order',
    ),
});
/** No traffic at all: the case scale to zero is for. */
const idle = z.strictObject({ pattern: z.literal('idle') });
export const loadSchema = z.discriminatedUnion('pattern', [steady, diurnal, spikes, step, idle]);

const variantSchema = z.strictObject({
  /** Deployment (and VariantAutoscaling) name; pods are `<name>-<index>`. */
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name'),
  replicas: z.number().int().min(0).default(1),
  /** GPU of each pod (H100, A100, A100-40GB, L40S, L4, or a cluster's product label). */
  accelerator: z.string().default('A100'),
  /** GPUs per pod; the tensor parallel size unless the args say otherwise. */
  gpus: z.number().int().min(1).optional(),
  /** The vLLM container's args, as the Deployment lists them (`--max-num-seqs`, ...). */
  args: z.array(z.string()).default([]),
  /** This variant's start-up delay; default the emulator's. */
  startupDelay: duration.optional(),
  /** Share of the model's traffic relative to the other variants; default: what its ready pods can serve. */
  weight: z.number().nonnegative().optional(),
});

/**
 * current: vLLM >= 0.12 names; transitional: new and deprecated names side by side (0.10, 0.11);
 * legacy: names before vLLM 0.10 (time_per_output_token_seconds, gpu_cache_usage_perc).
 */
const vllmMetricNames = z.enum(['current', 'transitional', 'legacy']);

const modelSchema = z.strictObject({
  /** vLLM's model_name label (the VariantAutoscaling's spec.modelID). */
  model: z.string().min(1),
  /**
   * The HuggingFace model the pods load (default: `model`); set it when they serve it under another
   * name (vLLM's --served-model-name).
   */
  architecture: z.string().min(1).optional(),
  /** A HuggingFace config.json for a model not in the simulator's table. */
  modelConfig: z.string().min(1).optional(),
  /** Arrival process around the pattern's rate; gamma with `arrivalCv` > 1 is bursty. */
  arrivals: z.enum(['poisson', 'uniform', 'gamma']).default('poisson'),
  arrivalCv: z.number().positive().default(2),
  /**
   * Replay requests from a file of `arrival_s, input_tokens, output_tokens` lines (seconds since
   * the emulator started) instead of drawing them from `load`.
   */
  trace: z.string().min(1).optional(),
  /** Kubernetes namespace of the pods; Prometheus adds it as a target label at scrape time. */
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name'),
  load: loadSchema,
  inputTokens: z.number().positive().default(512),
  outputTokens: z.number().positive().default(128),
  /** Fraction of requests finishing with finished_reason="length" (the rest "stop"). */
  lengthFraction: z.number().min(0).max(1).default(0.1),
  /** vLLM metric names this model's pods export; default: the emulator's `vllmMetrics`. */
  vllmMetrics: vllmMetricNames.optional(),
  variants: z.array(variantSchema).min(1),
});

export const emulatorConfigSchema = z
  .strictObject({
    seed: z.number().int().default(1),
    /** vLLM's engine label. */
    engine: z.string().default('0'),
    /** vLLM metric names every pod exports unless its model says otherwise (see vllmMetricNames). */
    vllmMetrics: vllmMetricNames.default('current'),
    /** Simulation step: counters move at least this often (and on every scrape). */
    tick: positiveDuration.default(1000),
    /** How long a pod added by a scale-up takes before it serves (model load, warm-up). */
    startupDelay: duration.default(0),
    /** Per-request spread of prompt and output lengths around their means, as a fraction (0..0.9). */
    jitter: z.number().min(0).max(0.9).default(0.25),
    /** The gateway's flow-control queue while a model has no ready pod. */
    gateway: z
      .strictObject({
        /** A request waiting longer fails. */
        queueTimeout: positiveDuration.default(60_000),
        /** Requests held per model at most; more fail at once. */
        maxQueue: z.number().int().min(0).default(10_000),
        /**
         * Which ready pod takes a request: `least-requests` (fewest waiting + running) or
         * `kv-aware` (least KV-cache use, then fewest requests), as the llm-d scheduler's scorers.
         */
        routing: z.enum(['least-requests', 'kv-aware']).default('least-requests'),
      })
      .default({ queueTimeout: 60_000, maxQueue: 10_000, routing: 'least-requests' }),
    models: z.array(modelSchema).min(1),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (m.trace) {
        try {
          loadTrace(m.trace);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'trace'], message: (err as Error).message });
        }
      }
      for (const [j, v] of m.variants.entries()) {
        try {
          variantSetup(m, v);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', i, 'variants', j],
            message: (err as Error).message,
          });
        }
        const key = `${m.namespace}/${v.name}`;
        if (seen.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', i, 'variants', j, 'name'],
            message: `variant ${key} is defined twice`,
          });
        }
        seen.add(key);
      }
    });
  });

export type EmulatorConfigInput = z.input<typeof emulatorConfigSchema>;
export type EmulatorConfig = z.output<typeof emulatorConfigSchema>;
export type ModelConfig = EmulatorConfig['models'][number];
export type VariantConfig = ModelConfig['variants'][number];
export type LoadConfig = z.output<typeof loadSchema>;

/** The engine a variant's pods run: the model, the GPU and the vLLM arguments of its Deployment. */
export function variantSetup(m: ModelConfig, v: VariantConfig): EngineSetup {
  const parsed = parseVllmArgs(v.args);
  const args = { ...parsed.args };
  if (v.gpus !== undefined && args.tensorParallelSize === undefined) args.tensorParallelSize = v.gpus;
  const id = m.architecture ?? parsed.model ?? m.model;
  let custom: Record<string, ModelSpec> = {};
  if (m.modelConfig) custom = { [id]: modelFromConfig(id, JSON.parse(readFileSync(m.modelConfig, 'utf8'))) };
  return engineSetup(id, v.accelerator, args, custom);
}

/** Invalid emulator configuration: one line per problem in `problems`. */
export class EmulatorConfigError extends Error {
  override name = 'EmulatorConfigError';
  constructor(
    readonly problems: string[],
    source?: string,
  ) {
    super(`invalid emulator configuration${source ? ` in ${source}` : ''}: ${problems.join('; ')}`);
  }
}

function describePath(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** Validates a configuration object (parsed YAML or built in code). */
export function parseEmulatorConfig(input: unknown, source?: string): EmulatorConfig {
  const r = emulatorConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues.map((issue) => {
    const where = describePath(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  throw new EmulatorConfigError(problems, source);
}

/** Reads and validates a YAML (or JSON) emulator configuration file. */
export function loadEmulatorConfig(file: string): EmulatorConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EmulatorConfigError([`cannot read: ${(err as Error).message}`], file);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new EmulatorConfigError([`not valid YAML: ${(err as Error).message.split('\n')[0]}`], file);
  }
  return parseEmulatorConfig(doc, file);
}

/** Flags of `wva-metrics emulate` without a config file: N models, each with variants and replicas. */
export interface EmulatorFlags {
  models: string[];
  namespace: string;
  variants: number;
  replicas: number;
  rate: number;
  pattern: 'steady' | 'diurnal' | 'spikes';
  period?: string;
  inputTokens: number;
  outputTokens: number;
  seed: number;
  tick?: string;
  accelerator?: string;
  gpus?: number;
  /** vLLM arguments every pod gets (`--max-num-seqs 64`, ...). */
  vllmArgs?: string[];
  startupDelay?: string;
  modelConfig?: string;
  trace?: string;
}

/** A Kubernetes object name from a model id: `meta-llama/Llama-3.1-8B` -> `meta-llama-llama-3-1-8b`. */
export function kubeName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return name || 'model';
}

/** Builds (and validates) a configuration from flags. */
export function configFromFlags(f: EmulatorFlags): EmulatorConfig {
  const load =
    f.pattern === 'diurnal'
      ? { pattern: f.pattern, rate: f.rate, ...(f.period ? { period: f.period } : {}) }
      : f.pattern === 'spikes'
        ? { pattern: f.pattern, rate: f.rate, ...(f.period ? { every: f.period } : {}) }
        : { pattern: f.pattern, rate: f.rate };
  return parseEmulatorConfig(
    {
      seed: f.seed,
      ...(f.tick ? { tick: f.tick } : {}),
      ...(f.startupDelay ? { startupDelay: f.startupDelay } : {}),
      models: f.models.map((model) => ({
        model,
        ...(f.modelConfig ? { modelConfig: f.modelConfig } : {}),
        ...(f.trace ? { trace: f.trace } : {}),
        namespace: f.namespace,
        load,
        inputTokens: f.inputTokens,
        outputTokens: f.outputTokens,
        variants: Array.from({ length: f.variants }, (_, i) => ({
          name: `${kubeName(model)}-v${i + 1}`,
          replicas: f.replicas,
          ...(f.accelerator ? { accelerator: f.accelerator } : {}),
          ...(f.gpus ? { gpus: f.gpus } : {}),
          args: f.vllmArgs ?? [],
        })),
      })),
    },
    'flags',
  );
}
