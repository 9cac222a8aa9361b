import type { CommandUnknownOpts } from '@commander-js/extra-typings'

/**
 * The options the user typed, without commander's defaults. The help shows train()'s own
 * defaults, but a resumed run must not receive them: it keeps the run's values.
 */
export function explicitOptions<T extends object>(command: CommandUnknownOpts, options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => command.getOptionValueSource(key) === 'cli')) as Partial<T>
}
