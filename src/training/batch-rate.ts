// The learning rate of one batch, as the fit loop sets it: per step for per-step schedules,
// else the epoch's. A pure function of the position, like the schedule itself.
import type { ResolvedOptions } from './options'
import { learningRateAt, schedulePer } from './schedule'

/** `epoch` is 1-based, `batch` 0-based within it. */
export function batchLearningRate(options: ResolvedOptions, batchesPerEpoch: number, epoch: number, batch: number): number {
  const base = options.optimizer.lr
  if (schedulePer(options.schedule) === 'step') return learningRateAt(options.schedule, base, (epoch - 1) * batchesPerEpoch + batch, options.epochs * batchesPerEpoch)
  return learningRateAt(options.schedule, base, epoch - 1, options.epochs)
}
