// The fit loop: epochs of training and evaluation from a position (LoopState), with callbacks
// for everything else. It knows nothing of files, reports or terminals.
import { performance } from 'node:perf_hooks'
import type { DeviceDataset } from '../data/device-dataset'
import type { Model } from '../model/model'
import { TRAINING_FORMAT, TRAINING_VERSION, type TrainingState } from '../checkpoint/contents'
import type { Callback, EpochEnd, FitContext, History, TrainBegin } from './callbacks'
import { batchCount, trainEpoch } from './epoch'
import type { LoopState } from './loop-state'
import { mean } from './metrics'
import type { ResolvedOptions } from './options'
import { batchLearningRate } from './batch-rate'
import { schedulePer } from './schedule'
import type { TrainResult } from './train'

export interface FitRun {
  model: Model
  trainData: DeviceDataset
  testData: DeviceDataset
  validationData: DeviceDataset | null
  /** The example order of an epoch (1-based). */
  orderOf: (epoch: number) => Uint32Array
  options: ResolvedOptions
  /** History first; then the reporters, checkpoints and the user's callbacks, in order. */
  callbacks: Callback[]
  history: History
  loop: LoopState
  info: TrainBegin
  /** What `data` was, when a resume can load it again ('mnist', a directory, a URL). */
  dataArgument: string | null
  signal?: AbortSignal
}

export interface FitSeconds {
  train: number
  trainEval: number
  testEval: number
}

export type FitOutcome = { interrupted: true; context: FitContext } | { interrupted: false; result: TrainResult }

function since(start: number): number {
  return (performance.now() - start) / 1000
}

type Hook = 'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onInterrupt' | 'onEpochsEnd' | 'onTrainEnd'

/** Calls one hook of every callback, in order, awaiting each. */
async function emit<K extends Hook>(callbacks: Callback[], hook: K, ...args: Parameters<NonNullable<Callback[K]>>): Promise<void> {
  for (const callback of callbacks) {
    const fn = callback[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined
    if (fn) await fn.apply(callback, args)
  }
}

function createContext(run: FitRun): FitContext & { stopReason: string | null } {
  const started = performance.now()
  const before = run.loop.elapsed
  const context = {
    model: run.model,
    history: run.history,
    options: run.options,
    batchesPerEpoch: run.info.batchesPerEpoch,
    loop: run.loop,
    stopReason: null as string | null,
    stop(reason = 'stopped by a callback') {
      context.stopReason ??= reason
    },
    elapsed: () => before + since(started),
    trainingState: (): TrainingState => ({
      format: TRAINING_FORMAT,
      version: TRAINING_VERSION,
      loop: { ...run.loop, epochLosses: [...run.loop.epochLosses], elapsed: context.elapsed() },
      options: run.options,
      data: { argument: run.dataArgument, source: run.info.source, trainCount: run.info.trainCount, testCount: run.info.testCount },
      history: run.history.epochs,
      callbacks: Object.fromEntries(run.callbacks.filter((c) => c.name && c.stateDict).map((c) => [c.name!, c.stateDict!()])),
      rng: run.model.rngState(),
    }),
  }
  return context
}

/**
 * Trains from `run.loop` to `options.epochs`, then calls `finish` (the final evaluation) and
 * hands its result to every callback's onTrainEnd.
 */
export async function fit(run: FitRun, seconds: FitSeconds, finish: (context: FitContext) => Promise<TrainResult>): Promise<FitOutcome> {
  const { model, options, loop, callbacks } = run
  const context = createContext(run)
  const perStep = schedulePer(options.schedule) === 'step'
  const batchesPerEpoch = run.info.batchesPerEpoch
  await emit(callbacks, 'onTrainBegin', run.info, context)

  while (context.stopReason === null && !(loop.epochDone && loop.epoch >= options.epochs)) {
    if (loop.epochDone) Object.assign(loop, { epoch: loop.epoch + 1, batch: 0, epochDone: false, epochLosses: [] })
    const epoch = loop.epoch
    await emit(callbacks, 'onEpochBegin', epoch, context)
    let learningRate = batchLearningRate(options, batchesPerEpoch, epoch, loop.batch)
    if (!perStep) model.setLearningRate(learningRate)
    const stepRate = (batch: number) => (learningRate = batchLearningRate(options, batchesPerEpoch, epoch, batch))
    const plan = { batchSize: options.batchSize, batchesPerCall: options.batchesPerCall, dropLast: options.dropLast, startBatch: loop.batch, learningRate: perStep ? stepRate : undefined }
    const phase = performance.now()
    const outcome = await trainEpoch(
      model,
      run.trainData,
      run.orderOf(epoch),
      plan,
      async (batch, batches, loss) => {
        loop.batch = batch + 1
        loop.step += 1
        loop.epochLosses.push(loss)
        await emit(callbacks, 'onBatchEnd', { epoch, epochs: options.epochs, batch, batches, loss }, context)
      },
      () => context.stopReason !== null,
      run.signal,
    )
    const trainSeconds = since(phase)
    seconds.train += trainSeconds
    if (outcome === 'interrupted') {
      await emit(callbacks, 'onInterrupt', context)
      return { interrupted: true, context }
    }
    if (loop.batch === 0) break // stopped before this epoch trained anything: nothing to record
    await recordEpoch(run, context, seconds, { trainSeconds, learningRate })
  }

  await emit(callbacks, 'onEpochsEnd', context)
  const result = await finish(context)
  await emit(callbacks, 'onTrainEnd', result, context)
  return { interrupted: false, result }
}

/** Evaluates the epoch just trained, marks it done and tells the callbacks. */
async function recordEpoch(run: FitRun, context: FitContext, seconds: FitSeconds, trained: { trainSeconds: number; learningRate: number }): Promise<void> {
  const { model, options, loop } = run
  let phase = performance.now()
  // Every rank of a data-parallel run evaluates here alike: they share each evaluation's work.
  const evaluation = { batchSize: options.evalBatchSize, acrossRanks: true }
  const trainEval = options.trainAccuracy ? await model.evaluate(run.trainData, evaluation) : null
  const trainEvalSeconds = since(phase)
  seconds.trainEval += trainEvalSeconds
  phase = performance.now()
  const testEval = options.evaluateEachEpoch ? await model.evaluate(run.testData, evaluation) : null
  const validationEval = run.validationData ? await model.evaluate(run.validationData, evaluation) : null
  const testEvalSeconds = since(phase)
  seconds.testEval += testEvalSeconds
  const end: EpochEnd = {
    epoch: loop.epoch,
    epochs: options.epochs,
    // Batches skipped for a non-finite loss took no step: the epoch's loss is the others' mean.
    trainLoss: options.onNonFinite === 'skip-batch' ? mean(loop.epochLosses.filter(Number.isFinite)) : mean(loop.epochLosses),
    skippedBatches: options.onNonFinite === 'skip-batch' ? loop.epochLosses.filter((l) => !Number.isFinite(l)).length : 0,
    trainAccuracy: trainEval?.accuracy ?? null,
    testLoss: testEval?.loss ?? null,
    testAccuracy: testEval?.accuracy ?? null,
    validationLoss: validationEval?.loss ?? null,
    validationAccuracy: validationEval?.accuracy ?? null,
    learningRate: trained.learningRate,
    batches: loop.batch,
    seconds: { train: trained.trainSeconds, trainEval: trainEvalSeconds, testEval: testEvalSeconds },
    elapsed: context.elapsed(),
  }
  loop.epochDone = true
  loop.epochLosses = []
  await emit(run.callbacks, 'onEpochEnd', end, context)
}

export { batchCount }
