// Which reporter `convtorch train` uses: JSON lines, the final lines only, the live bar on a
// terminal, or the seed's log lines wherever a bar would be noise (pipes, CI, NO_COLOR, dumb).
import { progressReporter, type LiveReporter } from './progress-reporter'
import { jsonReporter, plainReporter, quietReporter, type Reporter } from './reporters'

export function wantsLiveOutput(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb' && !env.CI
}

export function chooseReporter(flags: { json: boolean; quiet: boolean }, stream: NodeJS.WriteStream = process.stdout, env = process.env): Reporter | LiveReporter {
  const write = (line: string) => stream.write(`${line}\n`)
  if (flags.json) return jsonReporter(write)
  if (flags.quiet) return quietReporter(write)
  return wantsLiveOutput(stream, env) ? progressReporter(stream) : plainReporter(write)
}
