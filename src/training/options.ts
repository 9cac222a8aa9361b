// train() options: defaults are the seed script's, and every field is checked with an error
// that names it and its value.
import { invalidArgument } from '../errors'
import type { Device } from '../model/device'
import type { Init } from '../model/model'
import { checkLearningRate, checkOptimizer, type OptimizerOptions } from '../model/optimizer'
import type { PresetName } from '../model/presets'
import type { ModelSpec } from '../model/spec'
import { Dataset, type Normalisation } from '../data/dataset'
import type { ImageFolderOptions } from '../data/image-folder'
import type { Callback } from './callbacks'
import type { DistributedOptions } from './distributed'
import { checkAugment, type AugmentOptions } from './augment'
import { ON_NON_FINITE, type OnNonFinite } from './non-finite-guard'
import { checkSchedule, type ScheduleOptions } from './schedule'

/** `optimizer` of train(): an OptimizerOptions whose `lr` may be left out (it is then `lr`, or 0.05). */
export type TrainOptimizerOptions = OptimizerOptions extends infer O ? (O extends OptimizerOptions ? Omit<O, 'lr'> & { lr?: number } : never) : never

export interface TrainOptions {
  /**
   * The data: 'mnist' (the bundled MNIST, the default), a directory (MNIST's IDX files, raw or
   * .gz; CIFAR-10's binaries; or images in class folders), an http(s) mirror URL of MNIST's
   * files (downloaded into `cacheDir`), or `{ train, test }` datasets.
   */
  data?: string | { train: Dataset; test: Dataset }
  /** A preset ('seed': the tutorial's ConvNet, the default; 'strong') or a spec of your own. */
  model?: PresetName | ModelSpec
  /** Epochs in total (with `resume`: including those already done); default 10. */
  epochs?: number
  /** Examples per training batch; default 128. */
  batchSize?: number
  /**
   * The learning rate; default 0.05 (the seed's). The same as `optimizer.lr`: give one of them
   * (giving both with different values is an InvalidArgumentError).
   */
  lr?: number
  /** The optimizer: `{ kind: 'sgd' | 'adam' | 'adamW', lr?, ... }`; default `{ kind: 'sgd' }` (plain SGD, the seed's). */
  optimizer?: TrainOptimizerOptions
  /** The learning-rate schedule, per epoch unless `per: 'step'`; default `{ kind: 'constant' }`. */
  schedule?: ScheduleOptions
  /** Seeds every random generator (initial weights, shuffle, dropout, augmentation); default 1, the seed script's. */
  seed?: number
  /** 'auto' (the default: cuda:0 where a GPU and driver are usable, else the CPU), 'cpu', 'cuda' or 'cuda:N'. */
  device?: Device
  /** Initial weights: 'seed' (N(0, 0.01), zero bias: the tutorial's, the default), 'default' (PyTorch's Kaiming-uniform) or 'xavier'. */
  init?: Init
  /**
   * The example order of each epoch: 'torch' (default) is the order of the seed script's
   * `DataLoader(shuffle=True)` for this seed, so a run sees PyTorch's batches; 'seeded' is
   * convtorch's own seeded shuffle (xoshiro128**), a pure function of (seed, epoch).
   */
  shuffle?: 'torch' | 'seeded'
  /** Drop the last partial batch of each epoch (default false: it is trained on). */
  dropLast?: boolean
  /** Per-epoch training-set accuracy, as the seed prints it (default true). */
  trainAccuracy?: boolean
  /** Evaluate the test set after every epoch, not only at the end (default true). */
  evaluateEachEpoch?: boolean
  /** Batches per native call; per-batch losses are read once per call (default 50). */
  batchesPerCall?: number
  /** Examples per forward pass when evaluating (default 256: on CPU the activations of a
   *  batch then stay in cache; 1000 measured ~10% slower for the seed net). */
  evalBatchSize?: number
  /**
   * Normalise pixels after scaling to [0, 1]: (x - mean) / std, one number for every channel
   * or one per channel; 'auto' computes each channel's mean and std on the training set. The
   * model keeps it, so evaluate and predict prepare images the same way.
   */
  normalise?: Normalisation | 'auto'
  /** Augment every training batch on the device (off by default); seeded, and repeated on resume. */
  augment?: AugmentOptions
  /**
   * Hold out this share of each class of the training set as a validation set (seeded by
   * `seed`), evaluated every epoch (validationLoss, validationAccuracy): what checkpoint() and
   * earlyStopping() then monitor by default. An image folder's val/ beside test/ is used as is.
   */
  validationSplit?: number
  /** What a NaN or infinite loss does: 'stop' (default) throws NonFiniteLossError naming the
   *  epoch and batch, keeping the checkpoints written before; 'skip-batch' skips that batch's
   *  optimizer step (EpochEnd.skippedBatches counts them); 'continue' trains on. */
  onNonFinite?: OnNonFinite
  /** On CUDA: capture each training step (forward, loss, backward, optimizer update) in a CUDA
   *  graph after three eager warm-up steps, and replay it per batch: one launch instead of
   *  hundreds. Off by default. Where a step cannot be captured (not on CUDA, dropout,
   *  onNonFinite 'skip-batch', distributed runs) training runs eagerly and a Node warning
   *  (process.emitWarning) says why. */
  cudaGraph?: boolean
  /** How an image folder is read: imageSize, resize, channels, skipBadImages, onProgress, onWarning. */
  imageFolder?: Omit<ImageFolderOptions, 'cacheDir'>
  /**
   * The run directory: the last and best checkpoints (`checkpoint`, `best`), history.json and
   * report.json. Resumed runs default to the directory they resume.
   */
  out?: string
  /** With `out`: report.html and its PNGs (loss, accuracy, confusion) at the end (default true). */
  report?: boolean
  /**
   * Continues a run from its last complete checkpoint (a run directory or a checkpoint
   * directory) to `epochs` in total. Options that would make it another run (the model,
   * batch size, optimizer, schedule, seed, init, shuffle, dropLast, normalise) must be left
   * out or equal to the run's; they are taken from the checkpoint.
   */
  resume?: string
  /** Cache of downloads (mirror URLs) and decoded image folders; default ~/.cache/convtorch/datasets. */
  cacheDir?: string
  /** Aborting stops the run between batches (train() then rejects with TrainingAbortedError); with `out`, the position is checkpointed first. */
  signal?: AbortSignal
  /**
   * Callbacks, run in order after the built-in history (and, with `out`, a checkpoint()
   * callback, unless the list has one of its own, and the run's history/report files).
   */
  callbacks?: Callback | Callback[]
  /**
   * Data-parallel training: this process is one rank of `worldSize`, each training on its
   * shard of every epoch with the gradients averaged over the ranks (c10d: Gloo on the CPU,
   * NCCL on CUDA). Only rank 0 writes `out` (checkpoints, report); every rank runs
   * `callbacks`. `distributedFromEnv()` reads torchrun's variables into it.
   */
  distributed?: DistributedOptions
}

export interface ResolvedOptions {
  epochs: number
  batchSize: number
  optimizer: OptimizerOptions
  schedule: ScheduleOptions
  seed: number
  device: Device
  init: Init
  shuffle: 'torch' | 'seeded'
  dropLast: boolean
  trainAccuracy: boolean
  evaluateEachEpoch: boolean
  batchesPerCall: number
  evalBatchSize: number
  /** 'auto' until train() has computed it on the training set. */
  normalise: Normalisation | 'auto' | null
  augment: AugmentOptions | null
  validationSplit: number | null
  onNonFinite: OnNonFinite
  cudaGraph: boolean
}

const CONTEXT = 'train()'

/** Counts (epochs, batch sizes) stay within int32: past it they index nothing real, and the
 *  core's arithmetic on them would overflow. */
const MAX_COUNT = 2 ** 31 - 1

function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_COUNT) throw invalidArgument(CONTEXT, field, value, `an integer in [1, ${MAX_COUNT}]`)
  return value as number
}

function boolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidArgument(CONTEXT, field, value, 'true or false')
  return value
}

function choice<T extends string>(field: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!choices.includes(value as T)) throw invalidArgument(CONTEXT, field, value, choices.map((c) => `'${c}'`).join(' or '))
  return value as T
}

function fraction(field: string, value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !(value > 0 && value < 1)) throw invalidArgument(CONTEXT, field, value, 'a fraction in (0, 1)')
  return value
}

function checkNormalise(normalise: Normalisation): void {
  if (typeof normalise !== 'object') throw invalidArgument(CONTEXT, 'normalise', normalise, "'auto' or { mean, std }")
  const check = (field: 'mean' | 'std', ok: (v: number) => boolean, expected: string) => {
    const values = [normalise[field]].flat()
    const bad = values.findIndex((v) => typeof v !== 'number' || !ok(v))
    if (values.length === 0 || bad >= 0) throw invalidArgument(CONTEXT, `normalise.${field}`, normalise[field], `${expected}, or one per channel`)
  }
  check('mean', Number.isFinite, 'a finite number')
  check('std', (v) => Number.isFinite(v) && v > 0, 'a finite number > 0')
}

/** `lr` and `optimizer.lr` are one setting: both given must agree, so that neither silently wins. */
export function checkOneLearningRate(options: TrainOptions): void {
  const inOptimizer = options.optimizer?.lr
  if (options.lr !== undefined && inOptimizer !== undefined && options.lr !== inOptimizer) {
    throw invalidArgument(CONTEXT, 'lr', options.lr, `left out or equal to optimizer.lr (${inOptimizer}): the learning rate is given once`)
  }
}

export function resolveOptions(options: TrainOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument(CONTEXT, 'options', options, 'an object')
  if (options.optimizer !== undefined && (typeof options.optimizer !== 'object' || options.optimizer === null)) throw invalidArgument(CONTEXT, 'optimizer', options.optimizer, 'an object such as { kind: "sgd", lr: 0.05 }')
  const lr = checkLearningRate(CONTEXT, 'lr', options.lr ?? options.optimizer?.lr ?? 0.05)
  const seed = options.seed ?? 1
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArgument(CONTEXT, 'seed', seed, 'a non-negative integer')
  const device = options.device ?? 'auto'
  if (typeof device !== 'string' || !/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw invalidArgument(CONTEXT, 'device', device, "'auto', 'cpu', 'cuda' or 'cuda:N'")
  const init = options.init ?? 'seed'
  if (!['seed', 'default', 'xavier'].includes(init)) throw invalidArgument(CONTEXT, 'init', init, "'seed', 'default' or 'xavier'")
  const shuffle = options.shuffle ?? 'torch'
  if (shuffle !== 'torch' && shuffle !== 'seeded') throw invalidArgument(CONTEXT, 'shuffle', shuffle, "'torch' or 'seeded'")
  if (options.normalise !== undefined && options.normalise !== null && options.normalise !== 'auto') checkNormalise(options.normalise)
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out === '')) throw invalidArgument(CONTEXT, 'out', options.out, 'a directory path')
  boolean('report', options.report, true)
  if (options.data !== undefined && typeof options.data !== 'string') {
    if (typeof options.data !== 'object' || options.data === null) throw invalidArgument(CONTEXT, 'data', options.data, "'mnist', a directory, a URL, or { train, test } datasets")
    for (const part of ['train', 'test'] as const) {
      if (!(options.data[part] instanceof Dataset)) throw invalidArgument(CONTEXT, `data.${part}`, options.data[part], 'a Dataset (Dataset.fromArrays(), loadMnist(), loadIdx())')
    }
  }
  return {
    epochs: positiveInteger('epochs', options.epochs, 10),
    batchSize: positiveInteger('batchSize', options.batchSize, 128),
    optimizer: checkOptimizer(CONTEXT, { ...(options.optimizer ?? { kind: 'sgd' }), lr } as OptimizerOptions),
    schedule: checkSchedule(CONTEXT, options.schedule ?? { kind: 'constant' }),
    seed,
    device,
    init,
    shuffle,
    dropLast: boolean('dropLast', options.dropLast, false),
    trainAccuracy: boolean('trainAccuracy', options.trainAccuracy, true),
    evaluateEachEpoch: boolean('evaluateEachEpoch', options.evaluateEachEpoch, true),
    batchesPerCall: positiveInteger('batchesPerCall', options.batchesPerCall, 50),
    evalBatchSize: positiveInteger('evalBatchSize', options.evalBatchSize, 256),
    normalise: options.normalise ?? null,
    augment: checkAugment(CONTEXT, options.augment),
    validationSplit: fraction('validationSplit', options.validationSplit),
    onNonFinite: choice('onNonFinite', options.onNonFinite, ON_NON_FINITE, 'stop'),
    cudaGraph: boolean('cudaGraph', options.cudaGraph, false),
  }
}
