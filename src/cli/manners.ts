// How every convtorch command behaves when something is wrong: one "convtorch <command>:" prefix
// per message, a "did you mean" for mistyped commands and flags, a pointer to --help, and exit
// codes 2 for usage and invalid arguments, 1 for other failures (130/143 come from signals).
import { CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings'
import { ConvtorchError } from '../errors'
import { UsageError } from './flags'

function label(command: CommandUnknownOpts): string {
  return command.parent ? `convtorch ${command.name()}` : 'convtorch'
}

/** commander's "error: unknown option '--epoch'\n(Did you mean --epochs?)" as one line under our prefix. */
export function formatCommanderError(prefix: string, text: string): string {
  const message = text.replace(/^error: /, '').replace(/\n\(Did you mean (.+)\?\)/, ' (did you mean $1?)').trimEnd()
  return `${prefix}: ${message}\n`
}

/** Settings commander does not inherit when a command module builds its own subcommand. */
export function applyManners(program: CommandUnknownOpts): void {
  for (const command of [program, ...program.commands]) {
    const name = label(command)
    command
      .exitOverride()
      .showSuggestionAfterError(true)
      .showHelpAfterError(`Run \`${name} --help\` for ${command.parent ? 'its options and their defaults' : 'the commands'}.`)
      .configureOutput({ outputError: (text, write) => write(formatCommanderError(name, text)) })
  }
}

/** Prints an error that escaped a command (or the parser) and returns the exit code. */
export function reportError(error: unknown, commandName: string | undefined): number {
  if (error instanceof CommanderError) {
    // Already printed by outputError; --help and --version arrive here too, with exit code 0.
    return error.exitCode === 0 ? 0 : 2
  }
  if (error instanceof UsageError) {
    process.stderr.write(`convtorch${commandName ? ` ${commandName}` : ''}: ${error.message}\n`)
    return 2
  }
  // Typed errors already say what was wrong and what was expected: print only that.
  if (error instanceof ConvtorchError) {
    process.stderr.write(`convtorch: ${error.message}\n`)
    return error.code === 'CONVTORCH_INVALID_ARGUMENT' ? 2 : 1
  }
  process.stderr.write(`convtorch: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  return 1
}
