// `convtorch train` on a terminal: a live bar per epoch (batch n/N, running loss, images/s,
// elapsed, ETA), drawn by cli-progress at a bounded rate, then one summary line per epoch.
import { performance } from 'node:perf_hooks'
import { Presets, SingleBar } from 'cli-progress'
import type { EpochEnd } from '../training/callbacks'
import { plainReporter, type Reporter } from './reporters'

/** A reporter whose bar can be taken down at once (Ctrl-C, an error) to leave a clean line. */
export interface LiveReporter extends Reporter {
  halt(): void
}

const pad3 = (n: number) => String(n).padStart(3, '0')
const percent = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`)
const loss = (x: number | null) => (x === null ? '-' : x.toFixed(4))

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-'
  const s = Math.round(seconds)
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
  return (hms[0] > 0 ? hms : hms.slice(1)).map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0'))).join(':')
}

export function epochSummary(end: EpochEnd): string {
  const seconds = end.seconds.train + end.seconds.trainEval + end.seconds.testEval
  return `Epoch ${pad3(end.epoch)}/${pad3(end.epochs)} | train loss ${loss(end.trainLoss)} acc ${percent(end.trainAccuracy)} | test loss ${loss(end.testLoss)} acc ${percent(end.testAccuracy)} | lr ${end.learningRate.toPrecision(4)} | ${seconds.toFixed(1)} s`
}

/** `fps`: the most redraws a second (batches arrive in bursts of batchesPerCall). */
export function progressReporter(stream: NodeJS.WriteStream, options: { fps?: number } = {}): LiveReporter {
  const plain = plainReporter((line) => stream.write(`${line}\n`))
  let bar: SingleBar | null = null
  let halted = false
  const epoch = { started: 0, losses: 0, count: 0, batchSize: 1 }
  const takeDown = () => {
    bar?.stop()
    bar = null
  }
  return {
    onTrainBegin(info, context) {
      epoch.batchSize = context.options.batchSize
      plain.onTrainBegin!(info, context)
    },
    onEpochBegin(n, context) {
      if (halted) return
      Object.assign(epoch, { started: performance.now(), losses: 0, count: 0 })
      bar = new SingleBar(
        {
          stream,
          fps: options.fps ?? 5,
          barsize: 24,
          hideCursor: false,
          clearOnComplete: true,
          // Only the timer draws: a burst of batches is seen whole, never half-way through.
          synchronousUpdate: false,
          format: `Epoch ${pad3(n)}/${pad3(context.options.epochs)} {bar} {value}/{total} | loss {loss} | {rate} img/s | {duration_formatted} | ETA {remaining}`,
        },
        Presets.shades_classic,
      )
      bar.start(context.batchesPerEpoch, context.loop.batch, { loss: '-', rate: '-', remaining: '-' })
    },
    onBatchEnd(batch) {
      if (!bar) return
      epoch.losses += batch.loss
      epoch.count += 1
      const seconds = (performance.now() - epoch.started) / 1000
      const eta = (seconds / epoch.count) * (batch.batches - batch.batch - 1)
      bar.update(batch.batch + 1, { loss: (epoch.losses / epoch.count).toFixed(4), rate: Math.round((epoch.count * epoch.batchSize) / seconds), remaining: clock(eta) })
    },
    onEpochEnd(end) {
      takeDown()
      if (!halted) stream.write(`${epochSummary(end)}\n`)
    },
    onInterrupt: takeDown,
    onTrainEnd(result, context) {
      takeDown()
      plain.onTrainEnd!(result, context)
    },
    halt() {
      halted = true
      takeDown()
    },
  }
}
