// One epoch of training: the step function, separate from the loop that calls it.
import type { DeviceDataset } from '../data/device-dataset'
import type { Model } from '../model/model'

export interface EpochPlan {
  batchSize: number
  batchesPerCall: number
  dropLast: boolean
  /** The first batch to train (a resumed epoch starts past the batches already trained). */
  startBatch: number
  /** The learning rate of each batch of the epoch, for per-step schedules. */
  learningRate?: (batch: number) => number
}

export type EpochOutcome = 'finished' | 'stopped' | 'interrupted'

export function batchCount(examples: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(examples / batchSize) : Math.ceil(examples / batchSize)
}

/**
 * Trains on `order` in batches; each native call runs `batchesPerCall` batches off the main
 * thread and returns their losses at once, so the device is synchronised once per call, not
 * per batch. `onBatch` sees every batch; the signal and `shouldStop` are honoured between calls.
 */
export async function trainEpoch(
  model: Model,
  data: DeviceDataset,
  order: Uint32Array,
  plan: EpochPlan,
  onBatch: (batch: number, batches: number, loss: number) => void | Promise<void>,
  shouldStop: () => boolean,
  signal?: AbortSignal,
): Promise<EpochOutcome> {
  const batches = batchCount(order.length, plan.batchSize, plan.dropLast)
  const used = plan.dropLast ? order.subarray(0, batches * plan.batchSize) : order
  for (let first = plan.startBatch; first < batches; first += plan.batchesPerCall) {
    if (signal?.aborted) return 'interrupted'
    if (shouldStop()) return 'stopped'
    const last = Math.min(batches, first + plan.batchesPerCall)
    const chunk = used.subarray(first * plan.batchSize, Math.min(used.length, last * plan.batchSize))
    const rates = plan.learningRate ? Array.from({ length: last - first }, (_, i) => plan.learningRate!(first + i)) : undefined
    const losses = await model.trainBatches(data, chunk, plan.batchSize, rates)
    for (let i = 0; i < losses.length; i++) await onBatch(first + i, batches, losses[i])
  }
  return 'finished'
}
