// Resuming a run: its last complete checkpoint, and the options it was trained with. A resume
// continues the same run, so an option that would change what the run computes is refused,
// naming it; options that change only how it runs (device, epochs, reporting) may change.
import { isDeepStrictEqual } from 'node:util'
import { basename, dirname, join } from 'node:path'
import { existsSync } from 'node:fs'
import { LAST_POINTER, readCheckpoint, type CheckpointContents } from '../checkpoint/checkpoint'
import type { TrainingState } from '../checkpoint/contents'
import { describeValue } from '../describe-value'
import { CheckpointError, invalidArgument } from '../errors'
import { resolveSpec } from '../model/presets'
import { resolveOptions, type ResolvedOptions, type TrainOptions } from './options'

export interface Resumption extends CheckpointContents {
  training: TrainingState
  /** The run directory the checkpoint belongs to, where the resumed run keeps writing. */
  runDir: string | null
  options: ResolvedOptions
}

/** Fields whose change would make the resumed run another run. */
const SAME_RUN: ReadonlyArray<keyof ResolvedOptions> = ['batchSize', 'optimizer', 'schedule', 'seed', 'init', 'shuffle', 'dropLast', 'normalise', 'augment', 'validationSplit']

function runDirOf(path: string, checkpointDir: string): string | null {
  if (existsSync(join(path, LAST_POINTER))) return path
  if (basename(path) === LAST_POINTER || basename(path) === 'best') return dirname(path)
  if (basename(dirname(checkpointDir)) === 'checkpoints') return dirname(dirname(checkpointDir))
  return null
}

export async function openResumption(options: TrainOptions): Promise<Resumption> {
  const path = options.resume!
  if (typeof path !== 'string' || path === '') throw invalidArgument('train()', 'resume', path, 'a run or checkpoint directory')
  const saved = await readCheckpoint(path)
  if (!saved.training) {
    throw new CheckpointError(`${saved.dir}: holds a model but no training state (saved by model.save()); resume needs a run's checkpoint, written by train({ out })`)
  }
  const training = saved.training
  const resolved = resumedOptions(options, training, saved.dir)
  if (options.model !== undefined && !isDeepStrictEqual(resolveSpec(options.model), saved.model.spec)) {
    throw invalidArgument('train()', 'model', options.model, `the spec of the run being resumed (${saved.dir}/model.json); a resumed run continues the same run`)
  }
  return { ...saved, training, runDir: runDirOf(path, saved.dir), options: resolved }
}

function resumedOptions(options: TrainOptions, training: TrainingState, dir: string): ResolvedOptions {
  const saved = training.options
  // 'auto' is how the run's normalisation was made: the saved values are what it means now.
  const given = Object.fromEntries(Object.entries(options).filter(([key, value]) => value !== undefined && !(key === 'normalise' && value === 'auto'))) as TrainOptions
  const refuse = (field: string, value: unknown, was: unknown) =>
    invalidArgument('train()', field, value, `${describeValue(was)} as in the run being resumed (${dir}); a resumed run continues the same run: start a new one to change it`)
  if (given.lr !== undefined && given.lr !== saved.optimizer.lr) throw refuse('lr', given.lr, saved.optimizer.lr)
  const merged = resolveOptions({ ...saved, normalise: saved.normalise ?? undefined, augment: saved.augment ?? undefined, validationSplit: saved.validationSplit ?? undefined, lr: saved.optimizer.lr, ...given })
  for (const field of SAME_RUN) {
    if (!isDeepStrictEqual(merged[field], saved[field])) throw refuse(field, merged[field], saved[field])
  }
  const { loop } = training
  const done = loop.epochDone ? loop.epoch : loop.epoch - 1
  if (merged.epochs < done) throw invalidArgument('train()', 'epochs', merged.epochs, `at least the ${done} epochs the run being resumed has finished`)
  // These schedules are functions of the run's length: another total is another schedule.
  const lengthDependent = saved.schedule.kind === 'cosine' || saved.schedule.kind === 'oneCycle'
  if (lengthDependent && merged.epochs !== saved.epochs) throw refuse('epochs', merged.epochs, saved.epochs)
  return merged
}
