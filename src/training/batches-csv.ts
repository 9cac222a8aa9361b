// batches.csv as a callback: epoch, batch, step, loss and learning rate of every batch,
// flushed once per native call's burst of batches; a resumed run cuts the rows past its
// checkpoint's step (trained after it, before a crash) and continues from there.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { batchLearningRate } from './batch-rate'
import type { BatchEnd, Callback, FitContext, TrainBegin } from './callbacks'
import { CsvLog, readCsv, type Cell } from './csv-log'

export const BATCHES_CSV = 'batches.csv'
export const BATCH_COLUMNS = ['epoch', 'batch', 'step', 'loss', 'learningRate'] as const

export interface BatchRow {
  epoch: number
  batch: number
  step: number
  loss: number
  learningRate: number
}

/** The rows of a run directory's batches.csv; none where the run has no such file. */
export async function readBatchesCsv(dir: string): Promise<BatchRow[]> {
  const rows = await readCsv(join(dir, BATCHES_CSV)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    throw error
  })
  return rows.map((r) => ({ epoch: Number(r.epoch), batch: Number(r.batch), step: Number(r.step), loss: Number(r.loss), learningRate: Number(r.learningRate) }))
}

/** Appends one row per batch (epoch, batch, step, loss, learning rate) to `dir`/batches.csv; a resumed run continues it. */
export function batchesCsv(dir: string): Callback {
  const log = new CsvLog(join(dir, BATCHES_CSV), BATCH_COLUMNS)
  let pending: Cell[][] = []
  let flushEvery = 50
  const flush = () => {
    log.append(pending)
    pending = []
  }
  return {
    async onTrainBegin(info: TrainBegin, context: FitContext) {
      await mkdir(dir, { recursive: true })
      flushEvery = context.options.batchesPerCall
      const step = context.loop.step
      await (info.resumedFrom ? log.resume((row) => Number(row.step) <= step) : log.start())
    },
    onBatchEnd(batch: BatchEnd, context: FitContext) {
      const rate = batchLearningRate(context.options, context.batchesPerEpoch, batch.epoch, batch.batch)
      pending.push([batch.epoch, batch.batch, context.loop.step, batch.loss, rate])
      if (pending.length >= flushEvery || batch.batch === batch.batches - 1) flush()
    },
    onInterrupt: flush,
    onEpochsEnd: flush,
  }
}
