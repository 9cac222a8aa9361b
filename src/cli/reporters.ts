// How `convtorch train` reports: the seed's log lines, or one JSON object per event.
import type { Callback, TrainBegin } from '../training/callbacks'
import type { TrainResult } from '../training/train'

export type Reporter = Callback

type Write = (line: string) => void

const pad3 = (n: number) => String(n).padStart(3, '0')
const percent = (x: number) => `${(x * 100).toFixed(2)}%`

/** The seed script's lines: "Epoch: 001/010 | Batch 000/469 | Cost: 2.3026", every `every` batches. */
export function plainReporter(write: Write, every = 50): Reporter {
  return {
    onTrainBegin(info: TrainBegin) {
      const validation = info.validationCount > 0 ? ` | validation ${info.validationCount}` : ''
      write(`Data: ${info.source} | train ${info.trainCount}${validation} | test ${info.testCount} | device ${info.device}`)
      if (info.resumedFrom) write(`Resuming ${info.resumedFrom.checkpoint} at epoch ${pad3(info.resumedFrom.epoch)}, batch ${pad3(info.resumedFrom.batch)}`)
    },
    onBatchEnd({ epoch, epochs, batch, batches, loss }) {
      if (batch % every === 0) write(`Epoch: ${pad3(epoch)}/${pad3(epochs)} | Batch ${pad3(batch)}/${pad3(batches)} | Cost: ${loss.toFixed(4)}`)
    },
    onEpochEnd(end) {
      if (end.trainAccuracy !== null) write(`Epoch: ${pad3(end.epoch)}/${pad3(end.epochs)} training accuracy: ${percent(end.trainAccuracy)}`)
      if (end.validationAccuracy !== null) write(`Epoch: ${pad3(end.epoch)}/${pad3(end.epochs)} validation accuracy: ${percent(end.validationAccuracy)}`)
      if (end.testAccuracy !== null) write(`Epoch: ${pad3(end.epoch)}/${pad3(end.epochs)} test accuracy: ${percent(end.testAccuracy)}`)
      write(`Time elapsed: ${(end.elapsed / 60).toFixed(2)} min`)
    },
    onTrainEnd(result: TrainResult) {
      const { timings } = result
      if (result.stopped) write(`Stopped: ${result.stopped}`)
      write(`Total Training Time: ${((timings.trainSeconds + timings.trainEvalSeconds + timings.testEvalSeconds) / 60).toFixed(2)} min`)
      write(`Test accuracy: ${percent(result.test.accuracy)}`)
      if (result.checkpoint) write(`Saved: ${result.checkpoint}`)
    },
  }
}

/** One JSON object per line on stdout: batch progress (every `every` batches), epochs, the end. */
export function jsonReporter(write: Write, every = 50): Reporter {
  const emit = (event: string, body: object) => write(JSON.stringify({ event, ...body }))
  return {
    onTrainBegin(info) {
      emit('start', info)
    },
    onBatchEnd(batch) {
      if (batch.batch % every === 0 || batch.batch === batch.batches - 1) emit('batch', batch)
    },
    onEpochEnd(end) {
      emit('epoch', end)
    },
    onTrainEnd(result: TrainResult) {
      emit('end', { test: result.test, timings: result.timings, device: result.model.device, source: result.source, checkpoint: result.checkpoint, stopped: result.stopped })
    },
  }
}

/** --quiet: only the seed's final lines (total time, test accuracy, where the run was saved). */
export function quietReporter(write: Write): Reporter {
  const plain = plainReporter(write)
  return { onTrainEnd: plain.onTrainEnd }
}

/** A rank other than 0 of a data-parallel run: rank 0 reports for every rank. */
export function silentReporter(): Reporter {
  return {}
}
