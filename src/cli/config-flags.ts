// The configuration flags `run` and `collect` share. No defaults here: an absent flag must
// not hide the file, ConfigMap or environment below it (defaults are applied by loadConfig).
import type { Command } from 'commander';
import { CONFIG_KEYS, type Config, type ConfigKey, optionName } from '../config/keys.js';
import {
  ConfigError,
  type ConfigSources,
  logResolution,
  type ResolvedConfig,
  resolveConfig,
} from '../config/load.js';
import { formatDuration } from '../duration.js';
import { createLogger, type RootLogger } from '../telemetry/logger.js';
import { UsageError } from './errors.js';

/** Adds --config and one flag per configuration key (see docs/configuration.md). Returns `cmd`. */
export function addConfigOptions(cmd: Command): Command {
  cmd.option(
    '--config <file>',
    'config file (YAML/JSON keys as in the ConfigMap) or mounted ConfigMap directory; env WVA_CONFIG_FILE',
  );
  for (const spec of CONFIG_KEYS) {
    if (!spec.flag) continue;
    const help = `${spec.help} [${spec.key}; default: ${defaultShown(spec)}]`;
    if (!spec.arg) {
      cmd.option(`--${spec.flag}`, help);
    } else if (spec.arg.endsWith('...>')) {
      // Repeatable: each use adds one item.
      cmd.option(
        `--${spec.flag} ${spec.arg.replace('...>', '>')}`,
        help,
        (v: string, prev: string[] = []) => [...prev, v],
      );
    } else {
      cmd.option(`--${spec.flag} ${spec.arg}`, help);
    }
  }
  return cmd;
}

/** The help's default: the text given, else the value as a user would write it. */
function defaultShown(spec: ConfigKey): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  if (typeof d === 'number' && spec.arg === '<duration>') return formatDuration(d);
  return String(d);
}

/**
 * Commander's parsed options (+ the environment) to loadConfig's sources: the file from --config or
 * WVA_CONFIG_FILE, the environment, and the options as the flags layer.
 */
export function configSourcesFromOptions(
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): ConfigSources {
  const file =
    typeof opts.config === 'string' && opts.config !== '' ? opts.config : env.WVA_CONFIG_FILE || undefined;
  const flags: Record<string, unknown> = {};
  for (const spec of CONFIG_KEYS) {
    if (!spec.flag) continue;
    const name = optionName(spec.flag);
    if (opts[name] !== undefined) flags[name] = opts[name];
  }
  return { ...(file ? { file } : {}), env, flags };
}

/**
 * The configuration from `sources` and a logger at its level, which is then told what the user should
 * know about the resolution: the derived TTL (to a long-running process: only it keeps a cache across
 * cycles), and each unknown key with the known one nearest to it.
 * A refused configuration is a UsageError (exit 2).
 */
export function loadCliConfig(
  sources: ConfigSources,
  o: { longRunning: boolean },
): { config: Config; logger: RootLogger } {
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const logger = createLogger({ level: resolved.config.logLevel });
  logResolution(resolved, logger, { derivedTtl: o.longRunning });
  return { config: resolved.config, logger };
}
