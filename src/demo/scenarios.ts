// Demo scenarios (the default, `learned`, listed last): the example fleet's load reshaped so that a few minutes show the controller at
// work. A scenario replaces each model's load pattern (by model and namespace) and sets the pods'
// start-up delay; everything else (variants, profiles, tokens) stays as examples/ defines it.
import type { EmulatorConfig, LoadConfig } from '../emulator/index.js';

export interface Scenario {
  name: string;
  /** One line for --help and the demo's header. */
  description: string;
  /** Suggested length, ms: long enough to see every phase (used when --duration is not given). */
  durationMs: number;
  /** Start-up delay of pods added by a scale-up, ms. */
  startupDelayMs: number;
  /** Load per `namespace/model` (durations in ms); models not listed keep the config's load. */
  loads: Record<string, LoadConfig>;
  /** The manifests it runs over, a path under the package's examples/ (default `manifests`). */
  manifests?: string;
}

const S = 1000;
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const GRANITE = 'ibm-granite/granite-3.3-8b-instruct';
const MISTRAL = 'mistralai/Mistral-7B-Instruct-v0.3';

/** Granite's load in the autoscale and learned scenarios: up, down, up again, back. */
const GRANITE_STEPS: LoadConfig = {
  pattern: 'step',
  rate: 360,
  steps: [
    { at: 30 * S, rate: 1500 },
    { at: 100 * S, rate: 600 },
    { at: 270 * S, rate: 1200 },
    { at: 360 * S, rate: 360 },
  ],
};

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'autoscale',
    description:
      'llm-prod Llama steps 600 -> 7200 -> 600 req/min (scale-up, then scale-down after the window); llm-staging Llama goes idle (scale to zero); granite follows a 4-minute day',
    durationMs: 300 * S,
    startupDelayMs: 15 * S,
    loads: {
      [`llm-prod/${LLAMA}`]: {
        pattern: 'step',
        rate: 600,
        steps: [
          { at: 45 * S, rate: 7200 },
          { at: 165 * S, rate: 600 },
        ],
      },
      [`llm-prod/${GRANITE}`]: GRANITE_STEPS,
      [`llm-staging/${LLAMA}`]: { pattern: 'idle' },
      [`llm-staging/${MISTRAL}`]: { pattern: 'steady', rate: 240 },
    },
  },
  {
    name: 'steady',
    description: "the example fleet's own load (examples/emulator.yaml): steady, diurnal and spiky models",
    durationMs: 180 * S,
    startupDelayMs: 15 * S,
    loads: {},
  },
  {
    name: 'spike',
    description: 'llm-prod Llama at 900 req/min with 5x spikes of 40 s about every 2 minutes',
    durationMs: 360 * S,
    startupDelayMs: 15 * S,
    loads: {
      [`llm-prod/${LLAMA}`]: { pattern: 'spikes', rate: 900, factor: 5, every: 120 * S, duration: 40 * S },
    },
  },
  {
    name: 'diurnal',
    description: 'every llm-prod model follows a 5-minute day between 20% and 180% of its mean',
    durationMs: 300 * S,
    startupDelayMs: 15 * S,
    loads: {
      [`llm-prod/${LLAMA}`]: { pattern: 'diurnal', rate: 3000, amplitude: 0.8, period: 300 * S, phase: 0 },
      [`llm-prod/${GRANITE}`]: { pattern: 'diurnal', rate: 900, amplitude: 0.8, period: 300 * S, phase: 0 },
    },
  },
  {
    name: 'idle',
    description:
      'no traffic at all: every model scales to zero where its ConfigMap allows, to its minimum elsewhere',
    durationMs: 180 * S,
    startupDelayMs: 15 * S,
    loads: {
      [`llm-prod/${LLAMA}`]: { pattern: 'idle' },
      [`llm-prod/${GRANITE}`]: { pattern: 'idle' },
      [`llm-staging/${LLAMA}`]: { pattern: 'idle' },
      [`llm-staging/${MISTRAL}`]: { pattern: 'idle' },
    },
  },
  {
    name: 'learned',
    description:
      "upstream-shaped manifests with an SLO class and no profile anywhere (examples/learned/manifests): saturation decides until each model's learned performance model is confident, then the SLO engine; llm-prod Llama moves 600 -> 3000 -> 1200 -> 7200 -> 600 req/min and granite 360 -> 1500 -> 600 -> 1200 -> 360, Mistral follows a 3-minute day, llm-staging Llama goes idle",
    durationMs: 420 * S,
    startupDelayMs: 15 * S,
    manifests: 'learned/manifests',
    loads: {
      // The early moves vary the batch, so the slopes are identified; the late step is sized by
      // the SLO engine.
      [`llm-prod/${LLAMA}`]: {
        pattern: 'step',
        rate: 600,
        steps: [
          { at: 40 * S, rate: 3000 },
          { at: 120 * S, rate: 1200 },
          { at: 240 * S, rate: 7200 },
          { at: 330 * S, rate: 600 },
        ],
      },
      [`llm-prod/${GRANITE}`]: GRANITE_STEPS,
      [`llm-staging/${LLAMA}`]: { pattern: 'idle' },
      [`llm-staging/${MISTRAL}`]: {
        pattern: 'diurnal',
        rate: 240,
        amplitude: 0.6,
        period: 180 * S,
        phase: 0,
      },
    },
  },
];

export const DEFAULT_SCENARIO = 'learned';

/** The named scenario; an Error listing the names for an unknown one. */
export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s)
    throw new Error(`unknown scenario "${name}": use one of ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}

/**
 * The emulator config with the scenario's loads and start-up delay. Throws when the scenario
 * names a model the config does not serve (the scenario would silently do nothing there).
 */
export function applyScenario(config: EmulatorConfig, scenario: Scenario): EmulatorConfig {
  const known = new Set(config.models.map((m) => `${m.namespace}/${m.model}`));
  const missing = Object.keys(scenario.loads).filter((k) => !known.has(k));
  if (missing.length > 0)
    throw new Error(
      `scenario "${scenario.name}" sets the load of ${missing.join(', ')}, which the emulator config does not serve`,
    );
  return {
    ...config,
    startupDelay: scenario.startupDelayMs,
    models: config.models.map((m) => ({ ...m, load: scenario.loads[`${m.namespace}/${m.model}`] ?? m.load })),
  };
}
