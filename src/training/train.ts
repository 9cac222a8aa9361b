// train(): the seed's job end to end: data, model, epochs, evaluation, checkpoints, report.
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Dataset } from '../data/dataset'
import type { DeviceDataset } from '../data/device-dataset'
import { epochOrder } from '../data/shuffle'
import { resolveData } from '../data/sources'
import { torchLoaderOrders } from '../data/torch-order'
import { ConvtorchError, invalidArgument } from '../errors'
import { Model } from '../model/model'
import { History, type EpochEnd } from './callbacks'
import { trainEpoch } from './epoch'
import { confusionMatrix, mean, perClassMetrics, type ClassMetrics } from './metrics'
import { resolveOptions, type ResolvedOptions, type TrainOptions } from './options'
import { learningRateAt, schedulePer } from './schedule'

export interface TestResult {
  accuracy: number
  loss: number
  correct: number
  count: number
  /** [actual][predicted] counts. */
  confusionMatrix: number[][]
  perClass: ClassMetrics[]
}

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
}

/** Thrown when the signal aborts a run; the checkpoint (with `out`) holds the last state. */
export class TrainingAbortedError extends ConvtorchError {
  readonly history: History
  readonly checkpoint: string | null
  constructor(message: string, history: History, checkpoint: string | null) {
    super('CONVTORCH_ABORTED', message)
    this.history = history
    this.checkpoint = checkpoint
  }
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.partial`, `${JSON.stringify(value, null, 2)}\n`)
  await rename(`${path}.partial`, path)
}

async function saveCheckpoint(model: Model, out: string, progress: { epoch: number; batch: number; complete: boolean }): Promise<string> {
  const dir = join(out, 'checkpoint')
  await model.save(dir)
  await writeJson(join(dir, 'progress.json'), progress)
  return dir
}

function checkData(model: Model, train: Dataset, test: Dataset): void {
  const [c, h, w] = model.spec.input
  for (const [name, set] of [['train', train], ['test', test]] as const) {
    if (set.shape[0] !== c || set.shape[1] !== h || set.shape[2] !== w) {
      throw invalidArgument('train()', `data.${name}`, `examples of shape ${set.shape.join('x')}`, `examples of the model's input shape ${model.spec.input.join('x')}`)
    }
    if (set.classes > model.classes) {
      throw invalidArgument('train()', `data.${name}`, `${set.classes} classes`, `at most the model's ${model.classes} classes`)
    }
  }
}

export async function train(options: TrainOptions = {}): Promise<TrainResult> {
  const resolved = resolveOptions(options)
  const started = performance.now()
  const data = typeof options.data === 'object'
    ? { ...options.data, source: 'datasets' }
    : await resolveData(options.data ?? 'mnist', { cacheDir: options.cacheDir, signal: options.signal })
  // Computed before the model: the torch order replays the seeding that model creation does.
  const torchOrders = resolved.shuffle === 'torch' ? torchLoaderOrders({ model: options.model, init: resolved.init, seed: resolved.seed, epochs: resolved.epochs, count: data.train.count }) : null
  const model = Model.create({ model: options.model, seed: resolved.seed, device: resolved.device, init: resolved.init, optimizer: resolved.optimizer })
  checkData(model, data.train, data.test)
  const trainData = data.train.toDevice(model.device, options.normalise)
  const testData = data.test.toDevice(model.device, options.normalise)
  try {
    const orderOf = (epoch: number) => torchOrders?.[epoch - 1] ?? epochOrder(resolved.seed, epoch, data.train.count)
    return await runEpochs(options, resolved, model, { ...data, trainData, testData, orderOf }, started)
  } finally {
    // The model is returned; the uploaded datasets are not needed any more.
    trainData.dispose()
    testData.dispose()
  }
}

interface LoadedData {
  train: Dataset
  test: Dataset
  source: string
  trainData: DeviceDataset
  testData: DeviceDataset
  /** The example order of an epoch (1-based). */
  orderOf: (epoch: number) => Uint32Array
}

async function runEpochs(options: TrainOptions, resolved: ResolvedOptions, model: Model, data: LoadedData, started: number): Promise<TrainResult> {
  const { trainData, testData } = data
  const callbacks = options.callbacks ?? {}
  const timings: Timings = { dataSeconds: seconds(started), trainSeconds: 0, trainEvalSeconds: 0, testEvalSeconds: 0, totalSeconds: 0 }
  const history = new History()
  if (options.out) await mkdir(options.out, { recursive: true })

  const batchesPerEpoch = resolved.dropLast ? Math.floor(data.train.count / resolved.batchSize) : Math.ceil(data.train.count / resolved.batchSize)
  await callbacks.onTrainBegin?.({ epochs: resolved.epochs, batchesPerEpoch, trainCount: data.train.count, testCount: data.test.count, device: model.device, source: data.source })
  const loopStarted = performance.now()
  const baseLr = resolved.optimizer.lr
  const perStep = schedulePer(resolved.schedule) === 'step'
  const totalSteps = resolved.epochs * batchesPerEpoch
  let learningRate = baseLr
  for (let epoch = 1; epoch <= resolved.epochs; epoch++) {
    await callbacks.onEpochBegin?.(epoch)
    const phase = performance.now()
    const order = data.orderOf(epoch)
    if (!perStep) {
      learningRate = learningRateAt(resolved.schedule, baseLr, epoch - 1, resolved.epochs)
      model.setLearningRate(learningRate)
    }
    const stepRate = (batch: number) => (learningRate = learningRateAt(resolved.schedule, baseLr, (epoch - 1) * batchesPerEpoch + batch, totalSteps))
    const plan = { epoch, epochs: resolved.epochs, batchSize: resolved.batchSize, batchesPerCall: resolved.batchesPerCall, dropLast: resolved.dropLast, learningRate: perStep ? stepRate : undefined }
    const progress = await trainEpoch(model, trainData, order, plan, (batch, batches, loss) => callbacks.onBatchEnd?.({ epoch, epochs: resolved.epochs, batch, batches, loss }), options.signal)
    const trainSeconds = seconds(phase)
    timings.trainSeconds += trainSeconds
    if (progress.aborted) {
      const checkpoint = options.out ? await saveCheckpoint(model, options.out, { epoch, batch: progress.losses.length, complete: false }) : null
      if (options.out) await writeJson(join(options.out, 'history.json'), history)
      throw new TrainingAbortedError(`train(): aborted in epoch ${epoch} after ${progress.losses.length} batches${checkpoint ? `; checkpoint saved in ${checkpoint}` : ''}`, history, checkpoint)
    }
    let phaseStart = performance.now()
    const trainEval = resolved.trainAccuracy ? await model.evaluate(trainData, { batchSize: resolved.evalBatchSize }) : null
    const trainEvalSeconds = seconds(phaseStart)
    timings.trainEvalSeconds += trainEvalSeconds
    phaseStart = performance.now()
    const testEval = resolved.evaluateEachEpoch ? await model.evaluate(testData, { batchSize: resolved.evalBatchSize }) : null
    const testEvalSeconds = seconds(phaseStart)
    timings.testEvalSeconds += testEvalSeconds
    const end: EpochEnd = {
      epoch,
      epochs: resolved.epochs,
      trainLoss: mean(progress.losses),
      trainAccuracy: trainEval?.accuracy ?? null,
      testLoss: testEval?.loss ?? null,
      testAccuracy: testEval?.accuracy ?? null,
      learningRate,
      seconds: { train: trainSeconds, trainEval: trainEvalSeconds, testEval: testEvalSeconds },
      elapsed: seconds(loopStarted),
    }
    history.epochs.push(end)
    if (options.out) await saveCheckpoint(model, options.out, { epoch, batch: progress.losses.length, complete: true })
    await callbacks.onEpochEnd?.(end)
  }

  const phaseStart = performance.now()
  const evaluation = await model.evaluate(testData, { batchSize: resolved.evalBatchSize })
  timings.testEvalSeconds += seconds(phaseStart)
  const matrix = confusionMatrix(data.test.labels, evaluation.predictions, model.classes)
  const test: TestResult = {
    accuracy: evaluation.accuracy,
    loss: evaluation.loss,
    correct: evaluation.correct,
    count: evaluation.count,
    confusionMatrix: matrix,
    perClass: perClassMetrics(matrix),
  }
  timings.totalSeconds = seconds(started)
  if (options.out) {
    await writeJson(join(options.out, 'history.json'), history)
    await writeJson(join(options.out, 'report.json'), { source: data.source, device: model.device, options: resolved, test, timings, history })
  }
  await callbacks.onTrainEnd?.(history)
  return { model, history, test, timings, options: resolved, source: data.source }
}
