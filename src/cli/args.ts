// Turning command-line strings into typed options, with errors that name the flag and value.
import { InvalidArgumentError } from '../errors'

export class UsageError extends InvalidArgumentError {}

export function integerFlag(command: string, flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`convtorch ${command}: --${flag} must be an integer >= ${min}, got '${raw}'`)
  }
  return value
}

export function numberFlag(command: string, flag: string, raw: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`convtorch ${command}: --${flag} must be ${expected}, got '${raw}'`)
  return value
}

export function choiceFlag<T extends string>(command: string, flag: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined
  if (!choices.includes(raw as T)) throw new UsageError(`convtorch ${command}: --${flag} must be one of ${choices.join(', ')}, got '${raw}'`)
  return raw as T
}
