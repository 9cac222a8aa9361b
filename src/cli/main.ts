#!/usr/bin/env node
// convtorch command line. The commands are registered in program.ts, each in its own module.
import { reportError } from './manners'
import { createProgram } from './program'

// `convtorch train | head` closes stdout early: that ends the output, it is not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const program = createProgram()
// The command being parsed or run, for the prefix of a usage error its flags raise.
let running: string | undefined
program.hook('preSubcommand', (_, subcommand) => {
  running = subcommand.name()
})

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = reportError(error, running)
})
