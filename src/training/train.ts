// train(): the seed's job end to end: data, model, the fit loop with its callbacks, the final
// evaluation. A resumed run is the same job started from a checkpoint's position.
import { performance } from 'node:perf_hooks'
import type { Dataset } from '../data/dataset'
import { epochOrder } from '../data/shuffle'
import { channelStatistics } from '../data/statistics'
import { resolveData } from '../data/sources'
import { validationSplit } from '../data/validation-split'
import { torchLoaderOrders } from './torch-order'
import { ConvtorchError, invalidArgument } from '../errors'
import { Model } from '../model/model'
import { checkTrainingMemory } from '../model/memory'
import { resolveSpec } from '../model/presets'
import { inferShapes } from '../model/shapes'
import { prepareRunDirectory } from '../checkpoint/run-directory'
import { History, type Callback, type FitContext } from './callbacks'
import { CheckpointCallback, checkpoint } from './checkpoint-callback'
import { batchCount } from './epoch'
import { fit, type FitSeconds } from './fit-loop'
import { nonFiniteGuard } from './non-finite-guard'
import { initialLoopState } from './loop-state'
import { evaluateUploaded, type EvaluationReport } from '../evaluation/evaluate'
import { checkOneLearningRate, resolveOptions, type ResolvedOptions, type TrainOptions } from './options'
import { openResumption, type Resumption } from './resume'
import { runRecord } from './run-record'
import { batchesCsv } from './batches-csv'
import { historyCsv } from './history-csv'
import { reportCallback } from './report-callback'
import { rankDevice, resolveDistributed, shardOrder, shardSize } from './distributed'
import { cuda } from '../runtime'

/** The final evaluation of the test set. */
export type TestResult = EvaluationReport

export interface Timings {
  /** Reading the data and uploading it to the device. */
  dataSeconds: number
  trainSeconds: number
  trainEvalSeconds: number
  testEvalSeconds: number
  totalSeconds: number
}

export interface TrainResult {
  model: Model
  history: History
  test: TestResult
  timings: Timings
  options: ResolvedOptions
  source: string
  /** The last checkpoint (a run directory's `checkpoint` link), or null without `out`. */
  checkpoint: string | null
  /** Why training ended before `epochs` (a callback's stop()), or null. */
  stopped: string | null
}

/** Thrown when the signal aborts a run; the checkpoint (with `out`) holds the last position. */
export class TrainingAbortedError extends ConvtorchError {
  readonly history: History
  readonly checkpoint: string | null
  constructor(message: string, history: History, checkpoint: string | null) {
    super('CONVTORCH_ABORTED', message)
    this.history = history
    this.checkpoint = checkpoint
  }
}

function checkData(model: Model, data: LoadedData): void {
  const [c, h, w] = model.spec.input
  const sets = [['train', data.train], ['test', data.test], ...(data.validation ? [['validation', data.validation] as const] : [])] as const
  for (const [name, set] of sets) {
    if (set.shape[0] !== c || set.shape[1] !== h || set.shape[2] !== w) {
      throw invalidArgument('train()', `data.${name}`, `examples of shape ${set.shape.join('x')}`, `examples of the model's input shape ${model.spec.input.join('x')}`)
    }
    if (set.classes > model.classes) {
      throw invalidArgument('train()', `data.${name}`, `${set.classes} classes`, `at most the model's ${model.classes} classes`)
    }
  }
}

function userCallbacks(callbacks: TrainOptions['callbacks']): Callback[] {
  if (callbacks === undefined) return []
  const list = Array.isArray(callbacks) ? callbacks : [callbacks]
  const bad = list.findIndex((c) => typeof c !== 'object' || c === null)
  if (bad >= 0) throw invalidArgument('train()', `callbacks[${bad}]`, list[bad], 'a callback object')
  return list
}

interface LoadedData {
  train: Dataset
  test: Dataset
  validation: Dataset | null
  classNames: string[] | null
  source: string
  argument: string | null
}

async function loadData(options: TrainOptions, resolved: ResolvedOptions, resumption: Resumption | null): Promise<LoadedData> {
  let data: Omit<LoadedData, 'validation'> & { validation?: Dataset }
  if (typeof options.data === 'object') {
    data = { ...options.data, classNames: null, source: 'datasets', argument: null }
  } else {
    const argument = options.data ?? resumption?.training.data.argument ?? (resumption ? null : 'mnist')
    if (argument === null) throw invalidArgument('train()', 'data', undefined, `the { train, test } datasets of the run being resumed (${resumption!.dir}), which were passed in, not loaded`)
    const found = await resolveData(argument, { cacheDir: options.cacheDir, signal: options.signal, imageFolder: options.imageFolder })
    data = { ...found, classNames: found.classNames ?? null, argument }
  }
  if (data.validation) return { ...data, validation: data.validation }
  if (resolved.validationSplit === null) return { ...data, validation: null }
  const split = validationSplit(data.train, resolved.validationSplit, resolved.seed)
  return { ...data, train: split.train, validation: split.validation, source: `${data.source}; ${Math.round(resolved.validationSplit * 100)}% of each class of train held out for validation` }
}

/** Says with a Node warning why cudaGraph was asked for but steps are not captured. */
function cudaGraphWarning(obstacle: string | null): string | null {
  if (obstacle) process.emitWarning(`train(): cudaGraph: training steps are not captured (${obstacle}); they run eagerly`, { code: 'CONVTORCH_CUDA_GRAPH' })
  return obstacle
}

/** A capture that failed during the run (the steps went on eagerly) is said once, at the end. */
function warnIfCaptureFailed(model: Model, wasCapturable: boolean): void {
  if (wasCapturable) cudaGraphWarning(model.cudaGraphObstacle())
}

export async function train(options: TrainOptions = {}): Promise<TrainResult> {
  const started = performance.now()
  if (typeof options !== 'object' || options === null) throw invalidArgument('train()', 'options', options, 'an object')
  checkOneLearningRate(options)
  const resumption = options.resume === undefined ? null : await openResumption(options)
  const resolved = resumption?.options ?? resolveOptions(options)
  const callbacks = userCallbacks(options.callbacks)
  // Everything that can be checked without the data is checked before it is read.
  const spec = resolveSpec(resumption?.model.spec ?? options.model)
  const layers = inferShapes(spec)
  const group = options.distributed === undefined ? null : resolveDistributed(options.distributed, resolved.device)
  if (group) Object.assign(resolved, { device: rankDevice(resolved.device, group.localRank, group.localRank !== null && cuda.isAvailable()) })
  // Only rank 0 writes the run directory; the other ranks' copies of it would be the same.
  const writer = group === null || group.rank === 0
  const out = options.out ?? resumption?.runDir ?? undefined
  if (out !== undefined && writer) await prepareRunDirectory(out)
  const data = await loadData(options, resolved, resumption)
  if (resumption && data.train.count !== resumption.training.data.trainCount) {
    throw invalidArgument('train()', 'data.train', `${data.train.count} examples`, `the ${resumption.training.data.trainCount} examples of the run being resumed`)
  }
  const worldSize = group?.worldSize ?? 1
  const savedWorld = resumption?.training.loop.worldSize ?? 1
  if (resumption && !resumption.training.loop.epochDone && savedWorld !== worldSize) {
    throw invalidArgument('train()', 'distributed.worldSize', worldSize, `the world size of the run being resumed (${savedWorld}): it stopped within an epoch, whose shards depend on it`)
  }
  const rankExamples = shardSize(data.train.count, worldSize)
  if (batchCount(rankExamples, resolved.batchSize, resolved.dropLast) === 0) {
    throw invalidArgument('train()', 'batchSize', resolved.batchSize, `at most the ${data.train.count} training examples when dropLast is true (every batch would be dropped and nothing trained)`)
  }
  if (!resolved.device.startsWith('cuda')) checkTrainingMemory(spec, layers, Math.min(resolved.batchSize, data.train.count))
  // Computed before the model: the torch order replays the seeding that model creation does.
  const torchOrders = resolved.shuffle === 'torch' ? torchLoaderOrders({ model: spec, init: resolved.init, seed: resolved.seed, epochs: resolved.epochs, count: data.train.count }) : null
  const model = resumption
    ? Model.fromCheckpoint(resumption.model, resumption.weights, resumption.optimizer, resolved.device)
    : Model.create({ model: spec, seed: resolved.seed, device: resolved.device, init: resolved.init, optimizer: resolved.optimizer })
  if (resumption) model.setRngState(resumption.training.rng, resumption.dir)
  checkData(model, data)
  const normalise = resolved.normalise === 'auto' ? channelStatistics(data.train) : resolved.normalise
  Object.assign(resolved, { normalise })
  model.setDataDescription({ normalise, classNames: data.classNames })
  model.setAugmentation(resolved.augment)
  model.setSkipNonFinite(resolved.onNonFinite === 'skip-batch')
  if (group) await model.joinGroup(group)
  const capturable = resolved.cudaGraph && cudaGraphWarning(model.setCudaGraph(true)) === null
  const trainData = data.train.toDevice(model.device, normalise ?? undefined)
  const testData = data.test.toDevice(model.device, normalise ?? undefined)
  const validationData = data.validation?.toDevice(model.device, normalise ?? undefined) ?? null
  try {
    const builtIn: Callback[] = out === undefined || !writer ? [] : [...(callbacks.some((c) => c instanceof CheckpointCallback) ? [] : [checkpoint({ dir: out })]), runRecord(out), historyCsv(out), batchesCsv(out), ...(options.report === false ? [] : [reportCallback({ dir: out, testSet: data.test })])]
    const history = new History()
    // The guard runs right after History: it must stop the loop before a checkpoint is written.
    const guard = resolved.onNonFinite === 'stop' ? [nonFiniteGuard()] : []
    const all: Callback[] = [history, ...guard, ...builtIn, ...callbacks]
    const loop = resumption ? { ...resumption.training.loop } : initialLoopState()
    if (group) loop.worldSize = worldSize
    else delete loop.worldSize
    if (resumption) {
      history.restore(resumption.training.history)
      for (const callback of all) {
        const state = callback.name ? resumption.training.callbacks[callback.name] : undefined
        if (state !== undefined) callback.loadStateDict?.(state)
      }
    }
    const batchesPerEpoch = batchCount(rankExamples, resolved.batchSize, resolved.dropLast)
    const seconds: FitSeconds = { train: 0, trainEval: 0, testEval: 0 }
    const dataSeconds = (performance.now() - started) / 1000
    const checkpointOf = () => all.find((c): c is CheckpointCallback => c instanceof CheckpointCallback)?.last ?? null
    const finish = async (context: FitContext): Promise<TrainResult> => {
      const phase = performance.now()
      // Every rank finishes alike, so they share the final evaluation as they share the epochs'.
      const test = await evaluateUploaded(model, testData, data.test.labels, resolved.evalBatchSize, true)
      seconds.testEval += (performance.now() - phase) / 1000
      const timings = { dataSeconds, trainSeconds: seconds.train, trainEvalSeconds: seconds.trainEval, testEvalSeconds: seconds.testEval, totalSeconds: (performance.now() - started) / 1000 }
      return { model, history, test, timings, options: resolved, source: data.source, checkpoint: checkpointOf(), stopped: context.stopReason }
    }
    const outcome = await fit(
      {
        model,
        trainData,
        testData,
        validationData,
        orderOf: (epoch) => shardOrder(torchOrders?.[epoch - 1] ?? epochOrder(resolved.seed, epoch, data.train.count), group?.rank ?? 0, worldSize),
        options: resolved,
        callbacks: all,
        history,
        loop,
        info: {
          epochs: resolved.epochs,
          batchesPerEpoch,
          trainCount: data.train.count,
          testCount: data.test.count,
          validationCount: data.validation?.count ?? 0,
          device: model.device,
          source: data.source,
          resumedFrom: resumption ? { checkpoint: resumption.dir, epoch: loop.epoch, batch: loop.batch } : null,
        },
        dataArgument: data.argument,
        signal: options.signal,
      },
      seconds,
      finish,
    )
    warnIfCaptureFailed(model, resolved.cudaGraph && capturable)
    if (outcome.interrupted) {
      const { loop: at } = outcome.context
      const saved = checkpointOf()
      throw new TrainingAbortedError(`train(): aborted in epoch ${at.epoch} after ${at.batch} batches${saved ? `; checkpoint saved in ${saved}` : ''}`, history, saved)
    }
    return outcome.result
  } finally {
    // The model is returned, alone again; the uploaded datasets are not needed any more.
    if (group) model.leaveGroup()
    trainData.dispose()
    testData.dispose()
    validationData?.dispose()
  }
}
