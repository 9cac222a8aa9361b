// --model for the commands that use a trained model (eval, predict, export): a run directory,
// a checkpoint directory, a preset or a spec file; --weights replaces its parameters with a
// safetensors file (ours, or a PyTorch state_dict of the same architecture).
import { existsSync, statSync } from 'node:fs'
import { Model } from '../model/model'
import { modelArgument } from './model-arg'
import { UsageError } from './args'

export interface LoadedModel {
  model: Model
  /** What the parameters are: the checkpoint, the weights file, or 'untrained'. */
  weights: string
}

export async function loadModelSource(command: string, raw: string | undefined, weights: string | undefined, device: string | undefined): Promise<LoadedModel> {
  if (raw === undefined) throw new UsageError(`convtorch ${command}: --model is required (a run or checkpoint directory, a preset such as seed, or a spec JSON file)`)
  if (weights !== undefined && !existsSync(weights)) throw new UsageError(`convtorch ${command}: --weights '${weights}' does not exist`)
  if (existsSync(raw) && statSync(raw).isDirectory()) {
    const model = await Model.load(raw, { device })
    if (weights !== undefined) model.loadWeights(weights)
    return { model, weights: weights ?? raw }
  }
  const model = Model.create({ model: modelArgument(raw), device, init: 'default' })
  if (weights !== undefined) model.loadWeights(weights)
  return { model, weights: weights ?? 'untrained' }
}
