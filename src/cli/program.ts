// The convtorch command line as one commander program. Each command lives in its own module
// and registers itself on the program; a new command is one import and one entry below.
import { Command } from '@commander-js/extra-typings'
import { doctorCommand } from './doctor-command'
import { evalCommand } from './eval-command'
import { exportCommand } from './export-command'
import { inspectCommand } from './inspect-command'
import { applyManners } from './manners'
import { predictCommand } from './predict-command'
import { reportCommand } from './report-command'
import { serveCommand } from './serve-command'
import { setupTorchCommand } from './setup-torch-command'
import { summaryCommand } from './summary-command'
import { trainCommand } from './train-command'
import { VERSION } from './version'

/** What a command module exports: it adds its subcommand (options, help, action) to `program`. */
export type Register = (program: Command) => void

const COMMANDS: Register[] = [trainCommand, evalCommand, predictCommand, exportCommand, serveCommand, inspectCommand, reportCommand, summaryCommand, doctorCommand, setupTorchCommand]

/** The program with every command; actions set process.exitCode (commander ignores their results). */
export function createProgram(): Command {
  const program = new Command('convtorch')
    .description("Train convolutional neural networks on libtorch: the seed tutorial's ConvNet on MNIST, or your own model and images.")
    .version(VERSION, '-V, --version', 'print the version of convtorch')
    .helpOption('-h, --help', 'print this help')
    .helpCommand('help [command]', 'print the help of a command')
  for (const register of COMMANDS) register(program)
  applyManners(program)
  return program
}
