// The fit loop's position: everything a checkpoint needs to continue a run where it stopped.
// The learning rate and the example order are pure functions of it (and of the options).

export interface LoopState {
  /** The epoch in progress, or the last one finished (1-based; 0 before the first). */
  epoch: number
  /** Batches of `epoch` trained so far. */
  batch: number
  /** `epoch` is over: trained, evaluated and recorded. */
  epochDone: boolean
  /** Optimizer steps since the run began. */
  step: number
  /** The losses of `epoch`'s batches while it is unfinished (its mean needs them all). */
  epochLosses: number[]
  /** Seconds spent in the loop before this process took over (a resumed run). */
  elapsed: number
  /** Ranks of a distributed run (absent: 1); `batch` counts this many ranks' batches at once. */
  worldSize?: number
}

export function initialLoopState(): LoopState {
  return { epoch: 0, batch: 0, epochDone: true, step: 0, epochLosses: [], elapsed: 0 }
}
