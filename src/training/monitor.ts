// The rule for "better" that checkpoints and early stopping share: a monitored metric, a mode.
import { invalidArgument } from '../errors'
import type { Monitor } from './callbacks'

export type Mode = 'min' | 'max'

export const MONITORS: readonly Monitor[] = ['trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'validationLoss', 'validationAccuracy']

/** A validation metric where the run has a validation set, else the test one. */
export function defaultMonitor(kind: 'Loss' | 'Accuracy', validationCount: number): Monitor {
  return `${validationCount > 0 ? 'validation' : 'test'}${kind}`
}

export function checkMonitor(context: string, monitor: unknown): Monitor {
  if (!MONITORS.includes(monitor as Monitor)) throw invalidArgument(context, 'monitor', monitor, `one of ${MONITORS.map((m) => `'${m}'`).join(', ')}`)
  return monitor as Monitor
}

/** Losses are minimised, accuracies maximised, unless `mode` says otherwise. */
export function monitorMode(context: string, monitor: Monitor | null, mode: unknown): Mode {
  if (mode === undefined) return monitor !== null && monitor.endsWith('Loss') ? 'min' : 'max'
  if (mode !== 'min' && mode !== 'max') throw invalidArgument(context, 'mode', mode, "'min' or 'max'")
  return mode
}

/** Whether `value` beats `best` by more than `minDelta` (anything beats no best yet). */
export function isImprovement(mode: Mode, value: number, best: number | null, minDelta: number): boolean {
  if (!Number.isFinite(value)) return false
  if (best === null) return true
  return mode === 'min' ? value < best - minDelta : value > best + minDelta
}
