// One epoch of training: the step function, separate from the loop that calls it.
import type { DeviceDataset } from '../data/device-dataset'
import type { Model } from '../model/model'

export interface EpochPlan {
  epoch: number
  epochs: number
  batchSize: number
  batchesPerCall: number
  dropLast: boolean
  /** The learning rate of each batch of the epoch, for per-step schedules. */
  learningRate?: (batch: number) => number
}

export interface EpochProgress {
  /** Batch losses of the epoch so far. */
  losses: number[]
  aborted: boolean
}

export function batchCount(examples: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(examples / batchSize) : Math.ceil(examples / batchSize)
}

/**
 * Trains on `order` in batches; each native call runs `batchesPerCall` batches off the main
 * thread and returns their losses at once, so the device is synchronised once per call, not
 * per batch. The signal is honoured between calls.
 */
export async function trainEpoch(
  model: Model,
  data: DeviceDataset,
  order: Uint32Array,
  plan: EpochPlan,
  onBatch: (batch: number, batches: number, loss: number) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<EpochProgress> {
  const batches = batchCount(order.length, plan.batchSize, plan.dropLast)
  const used = plan.dropLast ? order.subarray(0, batches * plan.batchSize) : order
  const losses: number[] = []
  for (let first = 0; first < batches; first += plan.batchesPerCall) {
    if (signal?.aborted) return { losses, aborted: true }
    const last = Math.min(batches, first + plan.batchesPerCall)
    const chunk = used.subarray(first * plan.batchSize, Math.min(used.length, last * plan.batchSize))
    const rates = plan.learningRate ? Array.from({ length: last - first }, (_, i) => plan.learningRate!(first + i)) : undefined
    const chunkLosses = await model.trainBatches(data, chunk, plan.batchSize, rates)
    for (let i = 0; i < chunkLosses.length; i++) {
      losses.push(chunkLosses[i])
      await onBatch(first + i, batches, chunkLosses[i])
    }
  }
  return { losses, aborted: false }
}
