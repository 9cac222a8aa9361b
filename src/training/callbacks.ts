// The events of a training run and the callbacks that receive them. Every feature of the loop
// beyond the steps themselves (reporting, history, checkpoints, early stopping) is a callback.
import type { TrainingState } from '../checkpoint/contents'
import type { Model } from '../model/model'
import type { LoopState } from './loop-state'
import type { ResolvedOptions } from './options'
import type { TrainResult } from './train'

export interface BatchEnd {
  /** The epoch, counted from 1. */
  epoch: number
  /** Epochs in the whole run. */
  epochs: number
  /** 0-based index of the batch within its epoch. */
  batch: number
  /** Batches per epoch. */
  batches: number
  /** The batch's mean cross-entropy loss (nats). */
  loss: number
}

export interface EpochEnd {
  /** The epoch, counted from 1. */
  epoch: number
  /** Epochs in the whole run. */
  epochs: number
  /** Mean of the epoch's batch losses (the model changing under them, as usual). */
  trainLoss: number
  /** Accuracy on the training set after the epoch, without autograd (as the seed prints). */
  trainAccuracy: number | null
  /** Mean cross-entropy on the test set after the epoch; null without `evaluateEachEpoch`. */
  testLoss: number | null
  /** Share of the test set classified right, in [0, 1]; null without `evaluateEachEpoch`. */
  testAccuracy: number | null
  /** On the validation set, where the run has one (validationSplit, or a folder's val/). */
  validationLoss: number | null
  validationAccuracy: number | null
  /** The learning rate of the epoch's last batch. */
  learningRate: number
  /** Batches trained in this epoch (fewer than an epoch's when a callback stopped it). */
  batches: number
  /** With onNonFinite 'skip-batch': the batches whose loss was not finite, which took no step. */
  skippedBatches: number
  /** Wall-clock seconds of the epoch's training, its training-set and its test-set evaluation. */
  seconds: { train: number; trainEval: number; testEval: number }
  /** Seconds since training began (a resumed run counts its earlier time). */
  elapsed: number
}

/** The numbers of an EpochEnd that a callback can monitor. */
export type Monitor = 'trainLoss' | 'trainAccuracy' | 'testLoss' | 'testAccuracy' | 'validationLoss' | 'validationAccuracy'

export interface TrainBegin {
  /** Epochs in the whole run. */
  epochs: number
  batchesPerEpoch: number
  /** Examples in the training, test (and validation) sets. */
  trainCount: number
  testCount: number
  /** 0 where the run has no validation set. */
  validationCount: number
  /** The device the model trains on, resolved ('cpu', 'cuda:0'). */
  device: string
  /** Where the data came from, in words. */
  source: string
  /** Where a resumed run continues from (null for a fresh run). */
  resumedFrom: { checkpoint: string; epoch: number; batch: number } | null
}

/** What every callback is handed: the run, its position, and the way to end it cleanly. */
export interface FitContext {
  readonly model: Model
  readonly history: History
  readonly options: ResolvedOptions
  readonly batchesPerEpoch: number
  /** The loop's position now (read-only to callbacks). */
  readonly loop: Readonly<LoopState>
  /** Ends training after the running batches, without an error; the run is evaluated and returned. */
  stop(reason?: string): void
  readonly stopReason: string | null
  /** Seconds since training began, earlier sessions of a resumed run included. */
  elapsed(): number
  /** Everything a checkpoint saves to resume the run here: position, options, history, states, RNG. */
  trainingState(): TrainingState
}

/**
 * A plug-in of the fit loop. Every hook is optional and may be async (the loop awaits it).
 * A callback with a `name` and `stateDict` has its state saved in training checkpoints and
 * handed back to `loadStateDict` when the run is resumed.
 */
export interface Callback {
  /** Names the callback's state in training checkpoints (needed with stateDict). */
  readonly name?: string
  /** Once, before the first batch (of a fresh or a resumed run). */
  onTrainBegin?(info: TrainBegin, context: FitContext): void | Promise<void>
  /** Before each epoch's first batch; `epoch` counts from 1. */
  onEpochBegin?(epoch: number, context: FitContext): void | Promise<void>
  /** After each batch; losses arrive in bursts of `batchesPerCall` (50) batches, read once per native call. */
  onBatchEnd?(batch: BatchEnd, context: FitContext): void | Promise<void>
  /** After each epoch and its evaluation. */
  onEpochEnd?(end: EpochEnd, context: FitContext): void | Promise<void>
  /** The signal aborted the run mid-epoch: save what must not be lost (the loop then throws). */
  onInterrupt?(context: FitContext): void | Promise<void>
  /** The last epoch is over, before the final evaluation (e.g. restore the best weights). */
  onEpochsEnd?(context: FitContext): void | Promise<void>
  /** The run is over and evaluated: the whole result. */
  onTrainEnd?(result: TrainResult, context: FitContext): void | Promise<void>
  /** The state to save in training checkpoints (JSON-serialisable). */
  stateDict?(): unknown
  /** The state stateDict() returned, handed back when the run is resumed. */
  loadStateDict?(state: unknown): void
}

/** @deprecated The name of one callback object before callbacks became a list. */
export type Callbacks = Callback

/** Every epoch's metrics, in order; a callback itself, first in every run (checkpoints keep it). */
export class History implements Callback {
  readonly epochs: EpochEnd[] = []

  get last(): EpochEnd | undefined {
    return this.epochs[this.epochs.length - 1]
  }

  onEpochEnd(end: EpochEnd): void {
    this.epochs.push(end)
  }

  /** The values of one monitored metric, epoch by epoch. */
  values(monitor: Monitor): Array<number | null> {
    return this.epochs.map((e) => e[monitor])
  }

  /** Puts back the epochs of a resumed run. */
  restore(epochs: EpochEnd[]): void {
    this.epochs.splice(0, this.epochs.length, ...epochs)
  }

  toJSON(): EpochEnd[] {
    return this.epochs
  }
}
