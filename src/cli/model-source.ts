// --model for the commands that use a trained model (eval, predict, inspect): a run directory,
// a checkpoint directory, a preset or a spec file; --weights replaces its parameters with a
// safetensors file (ours, or a PyTorch state_dict of the same architecture).
import { existsSync, statSync } from 'node:fs'
import type { Device } from '../model/device'
import { Model } from '../model/model'
import { modelArgument } from './model-arg'
import { UsageError } from './flags'

export interface LoadedModel {
  model: Model
  /** What the parameters are: the checkpoint, the weights file, or 'untrained'. */
  weights: string
}

export const MODEL_HELP = 'a run or checkpoint directory, a preset (seed, strong), or a spec JSON file'

export async function loadModelSource(raw: string | undefined, weights: string | undefined, device: Device | undefined): Promise<LoadedModel> {
  if (raw === undefined) throw new UsageError(`--model is required (${MODEL_HELP})`)
  if (weights !== undefined && !existsSync(weights)) throw new UsageError(`--weights '${weights}' does not exist`)
  if (existsSync(raw) && statSync(raw).isDirectory()) {
    const model = await Model.load(raw, { device })
    if (weights !== undefined) model.loadWeights(weights)
    return { model, weights: weights ?? raw }
  }
  const model = Model.create({ model: modelArgument(raw), device, init: 'default' })
  if (weights !== undefined) model.loadWeights(weights)
  return { model, weights: weights ?? 'untrained' }
}
