// history.csv as a callback: one row per epoch, appended when the epoch is recorded, so a
// crashed run keeps its epochs so far; a resumed run continues the file from its checkpoint.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Callback, EpochEnd, FitContext, TrainBegin } from './callbacks'
import { CsvLog, type Cell } from './csv-log'

export const HISTORY_CSV = 'history.csv'

/** EpochEnd's fields, its nested seconds flattened. */
export const HISTORY_COLUMNS = ['epoch', 'epochs', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'learningRate', 'batches', 'trainSeconds', 'trainEvalSeconds', 'testEvalSeconds', 'elapsed'] as const

export function historyRow(end: EpochEnd): Cell[] {
  const { seconds } = end
  return [end.epoch, end.epochs, end.trainLoss, end.trainAccuracy, end.testLoss, end.testAccuracy, end.learningRate, end.batches, seconds.train, seconds.trainEval, seconds.testEval, end.elapsed]
}

/** Appends one row per epoch (losses, accuracies, learning rate, seconds) to `dir`/history.csv; a resumed run continues it. */
export function historyCsv(dir: string): Callback {
  const log = new CsvLog(join(dir, HISTORY_CSV), HISTORY_COLUMNS)
  return {
    async onTrainBegin(info: TrainBegin, context: FitContext) {
      await mkdir(dir, { recursive: true })
      // The checkpoint's history is what the resumed run continues: later rows never happened.
      const recorded = context.history.epochs.length
      await (info.resumedFrom ? log.resume((row) => Number(row.epoch) <= recorded) : log.start())
    },
    onEpochEnd(end: EpochEnd) {
      log.append([historyRow(end)])
    },
  }
}
