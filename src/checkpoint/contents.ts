// What a checkpoint's JSON files hold, and the checks that refuse a torn or foreign one with
// the file and the field named.
import { CheckpointError } from '../errors'
import { checkIntegrityField, type Integrity } from './integrity'
import type { Normalisation } from '../data/dataset'
import type { Init } from '../model/model'
import type { OptimizerOptions } from '../model/optimizer'
import type { ModelSpec } from '../model/spec'
import { inferShapes } from '../model/shapes'
import type { EpochEnd } from '../training/callbacks'
import type { LoopState } from '../training/loop-state'
import type { ResolvedOptions } from '../training/options'

export const MODEL_FORMAT = 'convtorch-model'
/** 1: spec, seed, init. 2: adds the optimizer, the input normalisation and class names.
 *  3: adds the checksums of the tensor files and the spec (`integrity`), verified on reading. */
export const MODEL_VERSION = 3
export const TRAINING_FORMAT = 'convtorch-training'
export const TRAINING_VERSION = 1

export interface ModelDescription {
  format: typeof MODEL_FORMAT
  version: number
  spec: ModelSpec
  optimizer: OptimizerOptions
  seed: number
  init: Init
  /** How pixels were normalised after scaling to [0, 1]; null: not at all. */
  normalise: Normalisation | null
  /** A name per class index, where the data had names. */
  classNames: string[] | null
  /** The checksums of the files and the spec (version 3 on; the checkpoint module writes them). */
  integrity?: Integrity
}

/** Generator states, base64 (libtorch's own byte layout). */
export interface RngSnapshot {
  cpu: string
  /** The model's CUDA device's generator, for models on a GPU. */
  device: { name: string; state: string } | null
}

export interface TrainingState {
  format: typeof TRAINING_FORMAT
  version: number
  loop: LoopState
  options: ResolvedOptions
  /** `argument`: what `data` was ('mnist', a directory, a URL); null for datasets passed in. */
  data: { argument: string | null; source: string; trainCount: number; testCount: number }
  history: EpochEnd[]
  /** Each stateful callback's state, by its name. */
  callbacks: Record<string, unknown>
  rng: RngSnapshot
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function refuse(file: string, field: string, value: unknown, expected: string): CheckpointError {
  const shown = JSON.stringify(value) ?? String(value)
  return new CheckpointError(`${file}: ${field} must be ${expected}, got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`)
}

function wholeNumber(file: string, field: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw refuse(file, field, value, 'a whole number >= 0')
  return value as number
}

export function checkModelDescription(file: string, value: unknown): ModelDescription {
  if (!isObject(value) || value.format !== MODEL_FORMAT) throw refuse(file, 'format', isObject(value) ? value.format : value, `'${MODEL_FORMAT}' (not a convtorch model)`)
  const version = wholeNumber(file, 'version', value.version)
  if (version < 1 || version > MODEL_VERSION) throw refuse(file, 'version', version, `1 to ${MODEL_VERSION} (written by a newer convtorch?)`)
  if (!isObject(value.spec) || !Array.isArray(value.spec.layers)) throw refuse(file, 'spec', value.spec, 'a model spec { input, classes, layers }')
  try {
    inferShapes(value.spec as unknown as ModelSpec)
  } catch (error) {
    throw new CheckpointError(`${file}: spec: ${(error as Error).message}`, { cause: error })
  }
  // Version 1 kept no optimizer; those models were trained with the seed's SGD.
  const optimizer = value.optimizer ?? { kind: 'sgd', lr: 0.05 }
  if (!isObject(optimizer) || typeof optimizer.kind !== 'string') throw refuse(file, 'optimizer', optimizer, 'an optimizer such as { kind: "sgd", lr: 0.05 }')
  const normalise = value.normalise ?? null
  const numbers = (v: unknown) => typeof v === 'number' || (Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number'))
  if (normalise !== null && !(isObject(normalise) && numbers(normalise.mean) && numbers(normalise.std))) {
    throw refuse(file, 'normalise', normalise, 'null or { mean, std } (numbers, or one per channel)')
  }
  const classNames = value.classNames ?? null
  if (classNames !== null && !(Array.isArray(classNames) && classNames.every((n) => typeof n === 'string'))) throw refuse(file, 'classNames', classNames, 'null or a list of names')
  return {
    format: MODEL_FORMAT,
    version,
    spec: value.spec as unknown as ModelSpec,
    optimizer: optimizer as unknown as OptimizerOptions,
    seed: wholeNumber(file, 'seed', value.seed ?? 1),
    init: (value.init ?? 'seed') as Init,
    normalise: normalise as Normalisation | null,
    classNames: classNames as string[] | null,
    ...(version >= 3 ? { integrity: checkIntegrityField(file, value.integrity) } : {}),
  }
}

export function checkTrainingState(file: string, value: unknown): TrainingState {
  if (!isObject(value) || value.format !== TRAINING_FORMAT) throw refuse(file, 'format', isObject(value) ? value.format : value, `'${TRAINING_FORMAT}'`)
  const version = wholeNumber(file, 'version', value.version)
  if (version !== TRAINING_VERSION) throw refuse(file, 'version', version, `${TRAINING_VERSION}`)
  const loop = value.loop
  if (!isObject(loop)) throw refuse(file, 'loop', loop, 'the loop position')
  for (const field of ['epoch', 'batch', 'step']) wholeNumber(file, `loop.${field}`, loop[field])
  if (typeof loop.epochDone !== 'boolean') throw refuse(file, 'loop.epochDone', loop.epochDone, 'true or false')
  if (!Array.isArray(loop.epochLosses) || loop.epochLosses.length !== loop.batch && !loop.epochDone) throw refuse(file, 'loop.epochLosses', loop.epochLosses, `one loss per trained batch of the epoch (${String(loop.batch)})`)
  if (!isObject(value.options) || !isObject(value.options.optimizer)) throw refuse(file, 'options', value.options, 'the resolved training options')
  if (!isObject(value.data) || typeof value.data.source !== 'string') throw refuse(file, 'data', value.data, '{ source, trainCount, testCount }')
  wholeNumber(file, 'data.trainCount', value.data.trainCount)
  if (!Array.isArray(value.history)) throw refuse(file, 'history', value.history, 'a list of epochs')
  if (!isObject(value.callbacks)) throw refuse(file, 'callbacks', value.callbacks, 'an object of callback states')
  if (!isObject(value.rng) || typeof value.rng.cpu !== 'string') throw refuse(file, 'rng', value.rng, 'generator states { cpu, device }')
  return value as unknown as TrainingState
}
