// Typed command-line flags: commander options whose parsers turn the string into a number or
// a choice, with errors that name the flag and the value (and the nearest choice).
import { Option } from '@commander-js/extra-typings'
import { InvalidArgumentError } from '../errors'
import { didYouMean } from './suggest'

/** A flag or argument the command line got wrong; the CLI prints it after `convtorch <command>:`. */
export class UsageError extends InvalidArgumentError {}

export function parseInteger(flag: string, raw: string, min: number): number {
  const value = Number(raw)
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${raw}'`)
  return value
}

export function parseNumber(flag: string, raw: string, check: (n: number) => boolean, expected: string): number {
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`${flag} must be ${expected}, got '${raw}'`)
  return value
}

export function parseChoice<const T extends string>(flag: string, raw: string, choices: readonly T[]): T {
  if (choices.includes(raw as T)) return raw as T
  throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got '${raw}'${didYouMean(raw, choices)}`)
}

// The parsers need the flag's name for their messages; commander's Option knows it.
const long = (option: { long?: string; flags: string }) => option.long ?? option.flags

/** `--epochs <n>`: an integer of at least `min`. */
export function integerOption<const F extends string>(flags: F, description: string, min: number) {
  const option = new Option(flags, description)
  return option.argParser((raw) => parseInteger(long(option), raw, min))
}

/** `--lr <x>`: a finite number that passes `check` (`expected` says what it must be). */
export function numberOption<const F extends string>(flags: F, description: string, check: (n: number) => boolean, expected: string) {
  const option = new Option(flags, description)
  return option.argParser((raw) => parseNumber(long(option), raw, check, expected))
}

/** `--init <name>`: one of `choices`, listed in the help. */
export function choiceOption<const F extends string, const T extends string>(flags: F, description: string, choices: readonly T[]) {
  const option = new Option(flags, `${description}: ${choices.join(' | ')}`)
  return option.argParser((raw): T => parseChoice(long(option), raw, choices))
}

export const DEVICE_PATTERN = /^(auto|cpu|cuda(:\d+)?)$/

/** `--device <d>`: auto, cpu, cuda or cuda:N. */
export function deviceOption() {
  const option = new Option('--device <d>', 'auto | cpu | cuda | cuda:N (auto: cuda:0 where a GPU is usable)')
  return option.argParser((raw) => {
    // PyTorch's name for a GPU is cuda; "gpu" is one letter from "cpu", the opposite of the intent.
    const hint = /^gpu(:\d+)?$/.test(raw) ? ` (did you mean ${raw.replace('gpu', 'cuda')}?)` : didYouMean(raw, ['auto', 'cpu', 'cuda'])
    if (!DEVICE_PATTERN.test(raw)) throw new UsageError(`--device must be auto, cpu, cuda or cuda:N, got '${raw}'${hint}`)
    return raw as 'auto' | 'cpu' | 'cuda' | `cuda:${number}`
  })
}
