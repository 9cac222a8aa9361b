// The one module that owns a checkpoint directory: its layout, its atomic write, its
// validating reader and its versions. Everything else calls these functions.
//
//   model.json             what the model is: spec, optimizer, seed, init, normalisation, classes
//   weights.safetensors    the parameters under PyTorch's state_dict names
//   optimizer.safetensors  torch.optim-style state ({parameter}.momentum_buffer, .exp_avg, ...)
//   training.json          (training checkpoints) loop position, options, history, callbacks, RNG
import { access, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CheckpointError } from '../errors'
import type { Model } from '../model/model'
import { fileSystemError } from './file-system-error'
import { computeIntegrity, verifyIntegrity } from './integrity'
import { pointerTarget, publishDirectory, removeStaging } from './atomic-directory'
import { checkModelDescription, checkTrainingState, type ModelDescription, type TrainingState } from './contents'

export const MODEL_FILE = 'model.json'
export const WEIGHTS_FILE = 'weights.safetensors'
export const OPTIMIZER_FILE = 'optimizer.safetensors'
export const TRAINING_FILE = 'training.json'
/** Inside a run directory: the pointers to its last and best checkpoints. */
export const LAST_POINTER = 'checkpoint'
export const BEST_POINTER = 'best'

export interface CheckpointContents {
  /** The version directory that was read (the pointer resolved). */
  dir: string
  model: ModelDescription
  weights: string
  /** Absent in checkpoints written before optimizer state was kept. */
  optimizer: string | null
  training: TrainingState | null
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`)
}

/**
 * Writes a checkpoint of `model` (and, for training checkpoints, `training`) as a new version
 * directory, then points `pointer` at it. `version` defaults to a hidden sibling of the
 * pointer, and the version it replaces is then deleted. Returns the version directory.
 */
export async function writeCheckpoint(pointer: string, model: Model, training?: TrainingState, version?: string): Promise<{ version: string; previous: string | null }> {
  const own = version === undefined
  const dir = version ?? join(dirname(pointer), `.${basename(pointer)}.${Date.now().toString(36)}${process.pid.toString(36)}`)
  try {
    await removeStaging(dirname(dir))
    const previous = await publishDirectory(pointer, dir, async (staging) => {
      model.saveWeights(join(staging, WEIGHTS_FILE))
      model.saveOptimizerState(join(staging, OPTIMIZER_FILE))
      const description = model.describe()
      const integrity = await computeIntegrity(description.spec, join(staging, WEIGHTS_FILE), join(staging, OPTIMIZER_FILE))
      await writeJson(join(staging, MODEL_FILE), { ...description, integrity })
      if (training) await writeJson(join(staging, TRAINING_FILE), training)
    })
    if (own && previous && previous !== dir) await rm(previous, { recursive: true, force: true })
    return { version: dir, previous }
  } catch (error) {
    throw fileSystemError(error, dir, 'write the checkpoint')
  }
}

/** The checkpoint a path names: a checkpoint directory (or its pointer), or a run directory. */
async function checkpointDir(path: string): Promise<string> {
  const target = await pointerTarget(path)
  if (target === null) throw new CheckpointError(`${path}: no checkpoint there (no such directory)`)
  if (await exists(join(target, MODEL_FILE))) return target
  const last = await pointerTarget(join(path, LAST_POINTER))
  if (last !== null && (await exists(join(last, MODEL_FILE)))) return last
  throw new CheckpointError(`${path}: not a checkpoint (no ${MODEL_FILE}) nor a run directory (no ${LAST_POINTER}/${MODEL_FILE})`)
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CheckpointError(`${path}: the ${what} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error })
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CheckpointError(`${path}: the ${what} is not valid JSON (${(error as Error).message})`, { cause: error })
  }
}

/** Reads and checks a checkpoint's description files; the tensors are checked when loaded. */
export async function readCheckpoint(path: string): Promise<CheckpointContents> {
  const dir = await checkpointDir(path)
  const model = checkModelDescription(join(dir, MODEL_FILE), await readJson(join(dir, MODEL_FILE), 'model description'))
  const weights = join(dir, WEIGHTS_FILE)
  if (!(await exists(weights))) throw new CheckpointError(`${weights}: missing; a checkpoint holds ${MODEL_FILE} and ${WEIGHTS_FILE}`)
  const optimizer = (await exists(join(dir, OPTIMIZER_FILE))) ? join(dir, OPTIMIZER_FILE) : null
  if (model.integrity) await verifyIntegrity(join(dir, MODEL_FILE), model.integrity, model.spec, weights, optimizer)
  const trainingPath = join(dir, TRAINING_FILE)
  const training = (await exists(trainingPath)) ? checkTrainingState(trainingPath, await readJson(trainingPath, 'training state')) : null
  return { dir, model, weights, optimizer, training }
}
