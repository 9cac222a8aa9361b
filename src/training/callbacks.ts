// The events of a training run, as callbacks (the CLI's reporters are callbacks too).

export interface BatchEnd {
  epoch: number
  epochs: number
  /** 0-based index of the batch within its epoch. */
  batch: number
  batches: number
  loss: number
}

export interface EpochEnd {
  epoch: number
  epochs: number
  /** Mean of the epoch's batch losses (the model changing under them, as usual). */
  trainLoss: number
  /** Accuracy on the training set after the epoch, without autograd (as the seed prints). */
  trainAccuracy: number | null
  testLoss: number | null
  testAccuracy: number | null
  learningRate: number
  seconds: { train: number; trainEval: number; testEval: number }
  /** Seconds since training began. */
  elapsed: number
}

export interface TrainBegin {
  epochs: number
  batchesPerEpoch: number
  trainCount: number
  testCount: number
  device: string
  source: string
}

export interface Callbacks {
  onTrainBegin?(info: TrainBegin): void | Promise<void>
  onEpochBegin?(epoch: number): void | Promise<void>
  onBatchEnd?(batch: BatchEnd): void | Promise<void>
  onEpochEnd?(epoch: EpochEnd): void | Promise<void>
  onTrainEnd?(history: History): void | Promise<void>
}

/** Every epoch's metrics, in order. */
export class History {
  readonly epochs: EpochEnd[] = []

  get last(): EpochEnd | undefined {
    return this.epochs[this.epochs.length - 1]
  }

  toJSON(): EpochEnd[] {
    return this.epochs
  }
}
