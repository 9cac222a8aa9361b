// How much memory training a spec needs, said before trying: a 1e6-filter layer otherwise asks
// libtorch for 27 GB and fails with an allocator message and C++ frames.
import { totalmem } from 'node:os'
import { ModelSpecError } from '../errors'
import { formatShape, type LayerShape } from './shapes'
import type { ModelSpec } from './spec'

const FLOAT = 4

/** Bytes one training step holds at its peak: the weights with their gradients and two
 *  optimizer moments, the batch, and each layer's output with its gradient (a lower bound:
 *  libtorch keeps some workspace besides). */
export function trainingBytes(spec: ModelSpec, layers: readonly LayerShape[], batchSize: number): number {
  const parameters = layers.reduce((sum, layer) => sum + layer.parameters, 0)
  const perExample = spec.input.reduce((a, b) => a * b, 1) + layers.reduce((sum, layer) => sum + 2 * layer.output.reduce((a, b) => a * b, 1), 0)
  return FLOAT * (4 * parameters + batchSize * perExample)
}

function gigabytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GB`
}

/** Refuses a spec whose training step cannot fit in this machine's memory (CPU) or `available`. */
export function checkTrainingMemory(spec: ModelSpec, layers: readonly LayerShape[], batchSize: number, available: number = totalmem()): void {
  const needed = trainingBytes(spec, layers, batchSize)
  if (needed <= available) return
  const largest = layers.reduce((a, b) => (b.output.reduce((x, y) => x * y, 1) > a.output.reduce((x, y) => x * y, 1) ? b : a))
  throw new ModelSpecError(
    `training this spec with batches of ${batchSize} needs at least ${gigabytes(needed)}, more than the ${gigabytes(available)} of memory here; ` +
      `its largest output is layer ${largest.index} (${largest.type}) at ${formatShape(largest.output)} per example: use fewer filters or units, or a smaller batch`,
  )
}
