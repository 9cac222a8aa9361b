// Model: a network from a spec, its optimizer and its parameters, living on one device.
import { readCheckpoint, writeCheckpoint } from '../checkpoint/checkpoint'
import { MODEL_FORMAT, MODEL_VERSION, type ModelDescription } from '../checkpoint/contents'
import { BusyError, CheckpointError, invalidArgument } from '../errors'
import { call, callAsync, native, type NativeModel } from '../native'
import type { ResolvedDistributed } from '../training/distributed'
import type { Normalisation } from '../data/dataset'
import type { DeviceDataset } from '../data/device-dataset'
import { encodeOnnx } from '../export/onnx-model'
import { checkAugment, type AugmentOptions } from '../training/augment'
import { resolveSpec } from './presets'
import { restoreRng, rngSnapshot } from './rng'
import type { RngSnapshot } from '../checkpoint/contents'
import { inferShapes, type LayerShape } from './shapes'
import { checkLearningRate, checkOptimizer, seedOptimizer, type OptimizerOptions } from './optimizer'
import type { Device } from './device'
import type { PresetName } from './presets'
import type { ModelSpec } from './spec'

export type Init = 'seed' | 'default' | 'xavier'
const INITS: readonly Init[] = ['seed', 'default', 'xavier']

export interface ModelOptions {
  /** A preset name ('seed', 'strong') or a spec; default 'seed'. */
  model?: PresetName | ModelSpec
  /** Seeds every random number generator; default 1, like the seed script. */
  seed?: number
  /** 'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'; default 'auto'. */
  device?: Device
  /** 'seed' (N(0, 0.01), zero bias), 'default' (PyTorch's Kaiming-uniform) or 'xavier'. */
  init?: Init
  /** The optimizer trainBatches() steps with; default SGD with lr 0.05, the seed's. */
  optimizer?: OptimizerOptions
  /** Equivalent, faster formulations (an activation after its max-pool); default true. */
  fastPaths?: boolean
  /** How the training pixels were normalised after scaling to [0, 1] (kept in checkpoints). */
  normalise?: Normalisation | null
  /** A name per class index (kept in checkpoints, shown by predict and eval). */
  classNames?: string[] | null
}

export interface Tensor {
  shape: number[]
  values: Float32Array
}

export interface FeatureMaps {
  /** The layer's index in the spec. */
  layer: number
  type: 'conv2d' | 'maxPool2d' | 'avgPool2d'
  /** [count, channels, height, width] */
  shape: number[]
  values: Float32Array
}

export interface Evaluation {
  /** Mean cross-entropy over the examples. */
  loss: number
  accuracy: number
  correct: number
  count: number
  predictions: Int32Array
}

export interface Prediction {
  labels: Int32Array
  /** count x classes probabilities, row-major. */
  probabilities: Float32Array
}

function checkSeed(context: string, seed: unknown): number {
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) throw invalidArgument(context, 'seed', seed, 'a non-negative integer')
  return seed as number
}

function checkBatchSize(context: string, batchSize: unknown): number {
  if (!Number.isInteger(batchSize) || (batchSize as number) < 1) throw invalidArgument(context, 'batchSize', batchSize, 'a positive integer')
  return batchSize as number
}

function labelsOf(context: string, labels: ArrayLike<number>): Int32Array {
  if (labels instanceof Int32Array) return labels
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw invalidArgument(context, 'labels', labels, 'an Int32Array or an array of class indices')
  }
  return Int32Array.from(labels)
}

type KeptOptions = Required<Omit<ModelOptions, 'model' | 'fastPaths'>>

export class Model {
  readonly spec: ModelSpec
  readonly layers: LayerShape[]
  private readonly handle: NativeModel
  private options: KeptOptions
  /** The asynchronous call in progress, if any: a second one is refused, not queued. */
  private running: string | null = null

  private constructor(handle: NativeModel, spec: ModelSpec, layers: LayerShape[], options: KeptOptions) {
    this.handle = handle
    this.spec = spec
    this.layers = layers
    this.options = options
  }

  static create(options: ModelOptions = {}): Model {
    const spec = resolveSpec(options.model)
    const layers = inferShapes(spec)
    const seed = checkSeed('Model.create()', options.seed ?? 1)
    const device = options.device ?? 'auto'
    if (typeof device !== 'string') throw invalidArgument('Model.create()', 'device', device, "'auto', 'cpu', 'cuda' or 'cuda:N'")
    const init = options.init ?? 'seed'
    if (!INITS.includes(init)) throw invalidArgument('Model.create()', 'init', init, INITS.map((i) => `'${i}'`).join(', '))
    if (options.fastPaths !== undefined && typeof options.fastPaths !== 'boolean') throw invalidArgument('Model.create()', 'fastPaths', options.fastPaths, 'true or false')
    const optimizer = checkOptimizer('Model.create()', options.optimizer ?? seedOptimizer())
    const handle = call(() =>
      native().NativeModel.create(JSON.stringify(spec), { seed, device, init, optimizer: JSON.stringify(optimizer), fastPaths: options.fastPaths ?? true }),
    )
    const classNames = checkClassNames(options.classNames ?? null, spec.classes)
    return new Model(handle, spec, layers, { seed, device: handle.device as Device, init, optimizer, normalise: options.normalise ?? null, classNames })
  }

  /** The device the model lives on, e.g. "cpu" or "cuda:0". */
  get device(): string {
    return this.handle.device
  }

  get classes(): number {
    return this.spec.classes
  }

  /** The optimizer and its settings (its state lives in the core). */
  get optimizer(): OptimizerOptions {
    return this.options.optimizer
  }

  /** How input pixels are normalised after scaling to [0, 1], or null. */
  get normalise(): Normalisation | null {
    return this.options.normalise
  }

  /** A name per class index, or null where the data had none. */
  get classNames(): string[] | null {
    return this.options.classNames
  }

  /** Records how the training data was prepared, so checkpoints and predict know it. */
  setDataDescription(description: { normalise?: Normalisation | null; classNames?: string[] | null }): void {
    const classNames = description.classNames === undefined ? this.options.classNames : checkClassNames(description.classNames, this.classes)
    this.options = { ...this.options, normalise: description.normalise === undefined ? this.options.normalise : description.normalise, classNames }
  }

  /** What model.json records: enough to rebuild this model and its optimizer. */
  describe(): ModelDescription {
    const { seed, init, optimizer, normalise, classNames } = this.options
    return { format: MODEL_FORMAT, version: MODEL_VERSION, spec: this.spec, optimizer, seed, init, normalise, classNames }
  }

  parameterNames(): string[] {
    return this.quick('parameterNames()', () => this.handle.parameterNames())
  }

  /** A parameter by its PyTorch name ("conv_1.weight"), copied to the host. */
  parameter(name: string): Tensor {
    checkName('parameter()', name)
    return this.quick('parameter()', () => this.handle.parameter(name))
  }

  parameters(): Record<string, Tensor> {
    return Object.fromEntries(this.parameterNames().map((name) => [name, this.parameter(name)]))
  }

  /** The gradient left by the last training step, or null before any step. */
  gradient(name: string): Tensor | null {
    checkName('gradient()', name)
    return this.quick('gradient()', () => this.handle.gradient(name))
  }

  setParameter(name: string, values: Float32Array): void {
    checkName('setParameter()', name)
    if (!(values instanceof Float32Array)) throw invalidArgument('setParameter()', 'values', values, 'a Float32Array')
    this.quick('setParameter()', () => this.handle.setParameter(name, values))
  }

  /** Replaces the optimizer; its state starts afresh. */
  setOptimizer(optimizer: OptimizerOptions): void {
    const checked = checkOptimizer('setOptimizer()', optimizer)
    this.quick('setOptimizer()', () => this.handle.setOptimizer(JSON.stringify(checked)))
    this.options = { ...this.options, optimizer: checked }
  }

  /** Augments every training batch on the device from now on; null turns it off. */
  setAugmentation(augment: AugmentOptions | null): void {
    const checked = checkAugment('setAugmentation()', augment)
    this.quick('setAugmentation()', () => this.handle.setAugmentation(checked ? JSON.stringify(checked) : undefined))
  }

  /** Captures CUDA training steps in a CUDA graph from now on (train()'s `cudaGraph`); returns
   *  why they will not be captured (not on CUDA, dropout, ...), or null. */
  setCudaGraph(enabled: boolean): string | null {
    return this.quick('setCudaGraph()', () => this.handle.setCudaGraph(enabled)) ?? null
  }

  /** With setCudaGraph(true): why steps are not captured now (a failed capture, ...), or null. */
  cudaGraphObstacle(): string | null {
    return this.quick('cudaGraphObstacle()', () => this.handle.cudaGraphObstacle()) ?? null
  }

  /** @internal onNonFinite 'skip-batch': a batch with a NaN or infinite loss takes no step. */
  setSkipNonFinite(skip: boolean): void {
    this.quick('setSkipNonFinite()', () => this.handle.setSkipNonFinite(skip))
  }

  setLearningRate(lr: number): void {
    checkLearningRate('setLearningRate()', 'lr', lr)
    this.quick('setLearningRate()', () => this.handle.setLearningRate(lr))
  }

  /** One SGD step on a batch of pixels [count, c, h, w] (row-major); returns the mean loss. */
  trainStep(images: Float32Array, labels: ArrayLike<number>): number {
    if (!(images instanceof Float32Array)) throw invalidArgument('trainStep()', 'images', images, 'a Float32Array')
    const ints = labelsOf('trainStep()', labels)
    return this.quick('trainStep()', () => this.handle.trainStep(images, ints, ints.length))
  }

  /**
   * Trains on `order` (example indices of `data`) in batches of `batchSize`, off the main
   * thread; `learningRates` gives one rate per batch (a per-step schedule).
   */
  async trainBatches(data: DeviceDataset, order: Uint32Array, batchSize: number, learningRates?: ArrayLike<number>): Promise<Float32Array> {
    checkBatchSize('trainBatches()', batchSize)
    if (!(order instanceof Uint32Array)) throw invalidArgument('trainBatches()', 'order', order, 'a Uint32Array of example indices')
    const rates = learningRates === undefined ? undefined : Array.from(learningRates)
    return this.exclusive('trainBatches()', () => this.handle.trainBatches(data.handle, order, batchSize, rates))
  }

  /**
   * Makes this model one rank of a data-parallel group: waits for every rank (up to the
   * timeout), takes rank 0's parameters, and from then on averages each step's gradients (in
   * buckets sent while the backward pass runs) and loss over the ranks. Resolves with the
   * store's port.
   */
  async joinGroup(group: ResolvedDistributed): Promise<number> {
    const options = { rank: group.rank, worldSize: group.worldSize, host: group.masterAddr, port: group.masterPort, hostStore: group.hostStore, backend: group.backend, timeoutMs: group.timeoutSeconds * 1000, bucketBytes: Math.max(1, Math.round(group.bucketCapMb * 1024 * 1024)) }
    return this.exclusive('joinGroup()', () => this.handle.joinGroup(options))
  }

  /** Leaves the group joined by joinGroup(): the model trains alone again. */
  leaveGroup(): void {
    this.quick('leaveGroup()', () => this.handle.leaveGroup())
  }

  private refuseWhileRunning(what: string): void {
    if (this.running) throw new BusyError(`${what}: the model is busy with ${this.running}; await it before calling ${what} (calls on one model are refused while it trains or evaluates, not queued)`)
  }

  /** A synchronous call: refused at once while an asynchronous call runs on this model. */
  private quick<T>(what: string, body: () => T): T {
    this.refuseWhileRunning(what)
    return call(body)
  }

  private async exclusive<T>(what: string, body: () => Promise<T>): Promise<T> {
    this.refuseWhileRunning(what)
    this.running = what
    try {
      return await callAsync(body)
    } finally {
      this.running = null
    }
  }

  /**
   * Mean loss, accuracy and predictions over a dataset, without autograd (batches of 256 by
   * default). With `acrossRanks`, in a data-parallel group (joinGroup), each rank evaluates its
   * own part of the dataset and the parts are summed over the ranks, so every rank gets the
   * whole dataset's result for 1/worldSize of the work; every rank must then make the same
   * call. Alone, `acrossRanks` changes nothing.
   */
  async evaluate(data: DeviceDataset, options: { batchSize?: number; acrossRanks?: boolean } = {}): Promise<Evaluation> {
    const batchSize = checkBatchSize('evaluate()', options.batchSize ?? 256)
    const acrossRanks = options.acrossRanks ?? false
    if (typeof acrossRanks !== 'boolean') throw invalidArgument('evaluate()', 'acrossRanks', acrossRanks, 'true or false')
    const result = await this.exclusive('evaluate()', () => this.handle.evaluate(data.handle, batchSize, acrossRanks))
    return {
      loss: result.lossSum / result.count,
      accuracy: result.correct / result.count,
      correct: result.correct,
      count: result.count,
      predictions: result.predictions,
    }
  }

  private exampleCount(context: string, images: Float32Array): number {
    if (!(images instanceof Float32Array)) throw invalidArgument(context, 'images', images, 'a Float32Array')
    const perExample = this.spec.input[0] * this.spec.input[1] * this.spec.input[2]
    const count = images.length / perExample
    if (!Number.isInteger(count) || count < 1) {
      throw invalidArgument(context, 'images', `${images.length} values`, `a positive multiple of ${perExample} values`)
    }
    return count
  }

  /** Raw class scores for `images` ([count, c, h, w] floats), count x classes, row-major. */
  logits(images: Float32Array): Float32Array {
    const count = this.exampleCount('logits()', images)
    return this.quick('logits()', () => this.handle.logits(images, count))
  }

  /**
   * What the network sees: the output of every convolution and pooling layer for `images`
   * ([count, c, h, w] floats, prepared like training), in one native call.
   */
  featureMaps(images: Float32Array): FeatureMaps[] {
    const count = this.exampleCount('featureMaps()', images)
    return this.quick('featureMaps()', () => this.handle.featureMaps(images, count)).map((m) => ({ layer: m.layer, type: m.kind as FeatureMaps['type'], shape: m.shape, values: m.values }))
  }

  /**
   * Grad-CAM on the last convolution: for each image, where the evidence for `classes[i]`
   * lies, as a [count, h, w] map at that layer's resolution (>= 0, unscaled).
   */
  gradCam(images: Float32Array, classes: ArrayLike<number>): Tensor {
    const count = this.exampleCount('gradCam()', images)
    return this.quick('gradCam()', () => this.handle.gradCam(images, count, Array.from(classes)))
  }

  /** Class probabilities and labels for `images` ([count, c, h, w] floats, scaled like training). */
  predict(images: Float32Array): Prediction {
    const count = this.exampleCount('predict()', images)
    const probabilities = this.quick('predict()', () => this.handle.predict(images, count))
    const labels = new Int32Array(count)
    for (let row = 0; row < count; row++) {
      let best = 0
      for (let k = 1; k < this.classes; k++) {
        if (probabilities[row * this.classes + k] > probabilities[row * this.classes + best]) best = k
      }
      labels[row] = best
    }
    return { labels, probabilities }
  }

  /** Frees the parameters and optimizer state (on the device too) now; later calls throw DisposedError. */
  dispose(): void {
    this.quick('dispose()', () => this.handle.dispose())
  }

  /** The generator states this model's dropout draws from (each model has its own). */
  rngState(): RngSnapshot {
    return this.quick('rngState()', () => rngSnapshot(this.handle))
  }

  /** Restores generator states from `rngState()`; `file` names where they came from in errors. */
  setRngState(snapshot: RngSnapshot, file = 'setRngState()'): void {
    this.quick('setRngState()', () => restoreRng(this.handle, snapshot, file))
  }

  /** The parameters as one safetensors file under PyTorch's state_dict names. */
  saveWeights(path: string): void {
    this.quick('saveWeights()', () => this.handle.saveWeights(path))
  }

  /**
   * The model as an ONNX file (opset 17, dynamic batch): input "input" takes pixels scaled to
   * [0, 1] with the normalisation applied inside, outputs "logits" and "probabilities";
   * class names, input and normalisation are in its metadata_props.
   */
  exportOnnx(): Uint8Array {
    return encodeOnnx({ spec: this.spec, parameter: (name) => this.parameter(name), normalise: this.normalise, classNames: this.classNames })
  }

  /** The optimizer's state (momentum buffers, Adam moments and steps) as safetensors. */
  saveOptimizerState(path: string): void {
    this.quick('saveOptimizerState()', () => this.handle.saveOptimizerState(path))
  }

  /**
   * Loads parameters from a safetensors file (ours, or a PyTorch state_dict saved with
   * safetensors) and optionally optimizer state; every name and shape is checked first, so
   * on failure the model is unchanged.
   */
  loadWeights(path: string, optimizerStatePath?: string): void {
    this.quick('loadWeights()', () => this.handle.loadCheckpoint(path, optimizerStatePath))
  }

  /**
   * Saves the model as a checkpoint directory (model.json, weights.safetensors,
   * optimizer.safetensors). `dir` becomes a link to a complete version beside it, switched
   * atomically: an interrupted save leaves the previous checkpoint whole.
   */
  async save(dir: string): Promise<void> {
    await writeCheckpoint(dir, this)
  }

  /** Loads a checkpoint (a directory saved by `save()`, a run's, or a run directory) with its optimizer state. */
  static async load(dir: string, options: { device?: Device } = {}): Promise<Model> {
    const saved = await readCheckpoint(dir)
    return Model.fromCheckpoint(saved.model, saved.weights, saved.optimizer, options.device)
  }

  /** @internal A model from a checked description and its files. */
  static fromCheckpoint(description: ModelDescription, weights: string, optimizerState: string | null, device?: Device): Model {
    let model: Model
    try {
      model = Model.create({ model: description.spec, seed: description.seed, init: description.init, optimizer: description.optimizer, device, normalise: description.normalise, classNames: description.classNames })
    } catch (error) {
      throw new CheckpointError(`${weights}: the model it was saved with cannot be rebuilt: ${(error as Error).message}`, { cause: error })
    }
    try {
      model.loadWeights(weights, optimizerState ?? undefined)
    } catch (error) {
      model.dispose()
      throw error
    }
    return model
  }
}

function checkClassNames(names: unknown, classes: number): string[] | null {
  if (names === null) return null
  if (!Array.isArray(names) || names.length !== classes || !names.every((n) => typeof n === 'string')) {
    throw invalidArgument('Model', 'classNames', names, `null or ${classes} names, one per class`)
  }
  return [...names]
}

function checkName(context: string, name: unknown): void {
  if (typeof name !== 'string') throw invalidArgument(context, 'name', name, "a parameter name such as 'conv_1.weight' (see parameterNames())")
}
