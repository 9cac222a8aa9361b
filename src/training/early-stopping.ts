// Early stopping as a callback (Keras' EarlyStopping, Lightning's): stop when the monitored
// metric has not improved by more than minDelta for `patience` epochs; optionally put the
// best epoch's weights back before the final evaluation.
import { invalidArgument } from '../errors'
import type { Callback, EpochEnd, FitContext, Monitor, TrainBegin } from './callbacks'
import { checkMonitor, defaultMonitor, isImprovement, monitorMode, type Mode } from './monitor'

export interface EarlyStoppingOptions {
  /** Default 'validationLoss' where the run has a validation set, else 'testLoss'. */
  monitor?: Monitor
  /** Default: 'min' for losses, 'max' for accuracies. */
  mode?: Mode
  /** Epochs without improvement before stopping (default 3, as Lightning). */
  patience?: number
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number
  /** Restore the best epoch's weights when training ends (default false). Its weights are
   *  kept in memory and, for a resumable run, in the checkpoint's training state. */
  restoreBest?: boolean
}

interface EarlyStoppingState {
  best: number | null
  bestEpoch: number | null
  wait: number
  stoppedEpoch: number | null
  /** name -> base64 float32 values of the best epoch's parameters (restoreBest only). */
  bestWeights: Record<string, string> | null
}

export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping'
  monitor: Monitor
  mode: Mode
  private readonly monitorByDefault: boolean
  readonly patience: number
  readonly minDelta: number
  readonly restoreBest: boolean
  private state: EarlyStoppingState = { best: null, bestEpoch: null, wait: 0, stoppedEpoch: null, bestWeights: null }

  constructor(options: EarlyStoppingOptions = {}) {
    const context = 'earlyStopping()'
    this.monitorByDefault = options.monitor === undefined
    this.monitor = checkMonitor(context, options.monitor ?? 'testLoss')
    this.mode = monitorMode(context, this.monitor, options.mode)
    this.patience = options.patience ?? 3
    if (!Number.isInteger(this.patience) || this.patience < 0) throw invalidArgument(context, 'patience', options.patience, 'an integer >= 0')
    this.minDelta = options.minDelta ?? 0
    if (!(Number.isFinite(this.minDelta) && this.minDelta >= 0)) throw invalidArgument(context, 'minDelta', options.minDelta, 'a finite number >= 0')
    this.restoreBest = options.restoreBest ?? false
  }

  /** The epoch whose metric was best, and its value. */
  get best(): { epoch: number; value: number } | null {
    return this.state.bestEpoch === null ? null : { epoch: this.state.bestEpoch, value: this.state.best! }
  }

  /** The epoch after which this callback stopped the run, or null. */
  get stoppedEpoch(): number | null {
    return this.state.stoppedEpoch
  }

  onTrainBegin(info: TrainBegin): void {
    if (this.monitorByDefault) this.monitor = defaultMonitor('Loss', info.validationCount)
  }

  onEpochEnd(end: EpochEnd, context: FitContext): void {
    const value = end[this.monitor]
    if (value === null) {
      throw invalidArgument('earlyStopping()', 'monitor', this.monitor, 'a metric the run computes every epoch (test metrics need evaluateEachEpoch, train accuracy trainAccuracy, validation metrics a validation set)')
    }
    if (isImprovement(this.mode, value, this.state.best, this.minDelta)) {
      this.state = { ...this.state, best: value, bestEpoch: end.epoch, wait: 0 }
      if (this.restoreBest) this.state.bestWeights = snapshot(context)
      return
    }
    this.state.wait += 1
    if (this.state.wait >= this.patience) {
      this.state.stoppedEpoch = end.epoch
      context.stop(`early stopping: ${this.monitor} has not improved by more than ${this.minDelta} for ${this.state.wait} epochs (best ${this.state.best} at epoch ${this.state.bestEpoch})`)
    }
  }

  onEpochsEnd(context: FitContext): void {
    const weights = this.state.bestWeights
    if (!this.restoreBest || !weights || this.state.bestEpoch === context.history.last?.epoch) return
    for (const [name, values] of Object.entries(weights)) {
      const bytes = Buffer.from(values, 'base64')
      context.model.setParameter(name, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice())
    }
  }

  stateDict(): EarlyStoppingState {
    return this.state
  }

  loadStateDict(state: unknown): void {
    this.state = { ...this.state, ...(state as EarlyStoppingState) }
  }
}

function snapshot(context: FitContext): Record<string, string> {
  const parameters = context.model.parameters()
  return Object.fromEntries(Object.entries(parameters).map(([name, p]) => [name, Buffer.from(p.values.buffer, p.values.byteOffset, p.values.byteLength).toString('base64')]))
}

/** Stops training when the monitored metric has not improved for `patience` epochs (see EarlyStoppingOptions). */
export function earlyStopping(options?: EarlyStoppingOptions): EarlyStopping {
  return new EarlyStopping(options)
}
