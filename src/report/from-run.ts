// A report's input rebuilt from a run directory: history.json, report.json (a finished run),
// batches.csv, environment.json and the last checkpoint (options, position, the model for the
// misclassified grid). An interrupted or resumed run has all but report.json; its test section
// is then the checkpoint's own evaluation.
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { readCheckpoint } from '../checkpoint/checkpoint'
import type { Device } from '../model/device'
import { resolveData } from '../data/sources'
import { CheckpointError } from '../errors'
import { evaluate, type EvaluationReport } from '../evaluation/evaluate'
import { Model } from '../model/model'
import { readBatchesCsv } from '../training/batches-csv'
import type { EpochEnd } from '../training/callbacks'
import { batchCount } from '../training/epoch'
import { ENVIRONMENT_FILE } from '../training/report-callback'
import type { Timings } from '../training/train'
import type { Environment } from './environment'
import { misclassified } from './misclassified'
import { networkView } from './network-view'
import { classNamesOf, type ReportInput } from './report-input'

interface RunRecord {
  test: EvaluationReport
  timings: Timings
  stopped: string | null
  checkpoint: string | null
  source: string
}

async function optionalJson<T>(path: string): Promise<T | null> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null
    throw error
  })
  if (text === null) return null
  try {
    return JSON.parse(text) as T
  } catch (error) {
    throw new CheckpointError(`${path}: not valid JSON: ${(error as Error).message}`, { cause: error })
  }
}

export async function reportInputFromRun(runDir: string, options: { device?: Device; cacheDir?: string } = {}): Promise<ReportInput> {
  const saved = await readCheckpoint(runDir)
  const training = saved.training
  if (!training) throw new CheckpointError(`${saved.dir}: holds a model but no training state; a report needs a run directory written by train({ out })`)
  const record = await optionalJson<RunRecord>(join(runDir, 'report.json'))
  const history = (await optionalJson<EpochEnd[]>(join(runDir, 'history.json'))) ?? training.history
  const { loop, options: trained, data } = training
  const model = Model.fromCheckpoint(saved.model, saved.weights, saved.optimizer, options.device ?? 'cpu')
  try {
    const testSet = data.argument === null ? null : (await resolveData(data.argument, { cacheDir: options.cacheDir })).test
    const checkpointName = `the checkpoint ${basename(saved.dir)}`
    const test = record ? { report: record.test, of: 'the final model' } : testSet ? { report: await evaluate(model, testSet), of: checkpointName } : null
    const done = loop.epochDone ? loop.epoch : loop.epoch - 1
    const status = record
      ? record.stopped
        ? `stopped: ${record.stopped}`
        : 'finished'
      : loop.epochDone
        ? `not finished: ${done} of ${trained.epochs} epochs`
        : `interrupted in epoch ${loop.epoch} after ${loop.batch} batches`
    return {
      runDir,
      status: `${status} (report rebuilt from the run directory)`,
      history,
      batches: await readBatchesCsv(runDir),
      batchesPerEpoch: batchCount(data.trainCount, trained.batchSize, trained.dropLast),
      test,
      misclassified: testSet ? await misclassified(model, testSet) : [],
      misclassifiedOf: checkpointName,
      misclassifiedNote: testSet ? null : 'The run was trained on datasets passed to train(), not loaded from a source: its test set is not known here.',
      network: testSet ? await networkView(model, testSet) : null,
      spec: saved.model.spec,
      classNames: classNamesOf(saved.model.classNames, model.classes),
      options: trained,
      timings: record?.timings ?? null,
      data: { source: data.source, trainCount: data.trainCount, testCount: data.testCount },
      environment: await optionalJson<Environment>(join(runDir, ENVIRONMENT_FILE)),
      checkpoint: record?.checkpoint ?? saved.dir,
    }
  } finally {
    model.dispose()
  }
}
