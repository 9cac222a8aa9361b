// report.html and its PNGs as a callback: the environment is recorded when training begins
// (environment.json), the report written when it ends. A report that cannot be written is a
// warning, not a failed run: the model and its checkpoints are already safe.
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Dataset } from '../data/dataset'
import { currentEnvironment, type Environment } from '../report/environment'
import { misclassified } from '../report/misclassified'
import { networkView } from '../report/network-view'
import { classNamesOf } from '../report/report-input'
import { writeReport } from '../report/write-report'
import { readBatchesCsv } from './batches-csv'
import type { Callback, FitContext, TrainBegin } from './callbacks'
import type { TrainResult } from './train'

export const ENVIRONMENT_FILE = 'environment.json'

export interface ReportOptions {
  /** The run directory (batches.csv is read from it; the report is written into it). */
  dir: string
  /** The test set, for the grid of misclassified images (pixels as the run read them). */
  testSet: Dataset
}

/** Writes `dir`/report.html with loss.png, accuracy.png and confusion.png when training ends. */
export function reportCallback(options: ReportOptions): Callback {
  const { dir, testSet } = options
  let info: TrainBegin | null = null
  let environment: Environment | null = null
  return {
    async onTrainBegin(begin: TrainBegin) {
      info = begin
      environment = currentEnvironment(begin.device)
      await mkdir(dir, { recursive: true })
      const path = join(dir, ENVIRONMENT_FILE)
      await writeFile(`${path}.partial`, `${JSON.stringify(environment, null, 2)}\n`)
      await rename(`${path}.partial`, path)
    },
    async onTrainEnd(result: TrainResult, context: FitContext) {
      try {
        const model = result.model
        await writeReport(dir, {
          runDir: dir,
          status: result.stopped ? `stopped: ${result.stopped}` : 'finished',
          history: result.history.epochs,
          batches: await readBatchesCsv(dir),
          batchesPerEpoch: context.batchesPerEpoch,
          test: { report: result.test, of: 'the final model' },
          misclassified: await misclassified(model, testSet),
          misclassifiedOf: 'the final model',
          misclassifiedNote: null,
          network: await networkView(model, testSet),
          spec: model.spec,
          classNames: classNamesOf(model.describe().classNames, model.classes),
          options: result.options,
          timings: result.timings,
          data: { source: result.source, trainCount: info?.trainCount ?? 0, testCount: info?.testCount ?? testSet.count },
          environment,
          checkpoint: result.checkpoint,
        })
      } catch (error) {
        process.emitWarning(`convtorch: ${join(dir, 'report.html')} was not written: ${(error as Error).message}`)
      }
    },
  }
}
