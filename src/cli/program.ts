// The `wva-metrics` command. Each subcommand lives in its own module and registers itself here.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerCollect } from './collect.js';
import { registerDemo } from './demo.js';
import { registerEmulate } from './emulate.js';
import { reportCliError } from './errors.js';
import { registerProfile } from './profile.js';
import { registerRun } from './run.js';
import { registerSimulate } from './simulate.js';
import { registerSize } from './size.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('wva-metrics')
    .description(
      'Model-level metrics for the Workload-Variant-Autoscaler: cached, one Prometheus call per cycle.',
    )
    .version(pkg.version, '-v, --version')
    // Commander's own errors ("error: unknown option ...") become one line, in our format, with the hint.
    .configureOutput({
      outputError: (text, write) =>
        write(`wva-metrics: ${text.replace(/^error: /, '').trimEnd()} (run with --help for usage)\n`),
    })
    .exitOverride();
  registerCollect(program);
  registerEmulate(program);
  registerDemo(program);
  registerProfile(program);
  registerRun(program);
  registerSimulate(program);
  registerSize(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help, the version, or its own one-line error; an error of the
      // command line exits 2, like our own UsageError.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    reportCliError(err);
  }
}
