// The hopwatch command line: one file per command; every command calls the same functions as the API.

import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { EXIT_CANNOT_RUN } from './common.js';
import { compareCommand } from './compare.js';
import { demoCommand } from './demo.js';
import { incidentsCommand } from './incidents.js';
import { probeCommand } from './probe.js';
import { runCommand } from './run.js';
import { timelineCommand } from './timeline.js';
import { verifyCommand } from './verify.js';

const program = new Command('hopwatch')
  .description('finds which hop of a Kubernetes Ingress path turns a 200 into a 502')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

program.addCommand(probeCommand());
program.addCommand(runCommand());
program.addCommand(demoCommand());
program.addCommand(verifyCommand());
program.addCommand(timelineCommand());
program.addCommand(incidentsCommand());
program.addCommand(compareCommand());
// addCommand does not pass exitOverride down: usage errors of subcommands must map to exit 2 too.
for (const command of program.commands) command.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Usage errors (unknown flag, bad choice) are "could not run"; --help and --version exit 0.
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : EXIT_CANNOT_RUN;
  else throw error;
}
