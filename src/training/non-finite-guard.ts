// Divergence is not silent: a loss that is NaN or infinite stops the run with an error naming
// where it happened, before a checkpoint of the broken weights can replace the last good one.
import { ConvtorchError } from '../errors'
import type { BatchEnd, Callback } from './callbacks'

/** 'stop' (default): throw NonFiniteLossError; 'skip-batch': such a batch takes no optimizer
 *  step (a sync per batch, as torch.amp.GradScaler pays) and the epoch's loss is the mean of the
 *  others; 'continue': train on, as PyTorch would. */
export type OnNonFinite = 'stop' | 'skip-batch' | 'continue'

export const ON_NON_FINITE: readonly OnNonFinite[] = ['stop', 'skip-batch', 'continue']

export class NonFiniteLossError extends ConvtorchError {
  readonly epoch: number
  readonly batch: number
  readonly loss: number
  constructor(at: BatchEnd) {
    super('CONVTORCH_NON_FINITE', `train(): the loss became ${at.loss} in epoch ${at.epoch} at batch ${at.batch}; training stopped and the checkpoints written before it are kept (a smaller lr, or onNonFinite: 'continue' to train on)`)
    this.epoch = at.epoch
    this.batch = at.batch
    this.loss = at.loss
  }
}

export function nonFiniteGuard(): Callback {
  return {
    onBatchEnd(batch) {
      if (!Number.isFinite(batch.loss)) throw new NonFiniteLossError(batch)
    },
  }
}
