// The report's charts as Vega-Lite specs: one source for the page (rendered in the browser)
// and the PNG files (rendered here). Data is inlined in each spec: nothing is fetched.
import type { BatchRow } from '../training/batches-csv'
import type { EpochEnd } from '../training/callbacks'

type BatchPoint = BatchRow

export type ChartSpec = Record<string, unknown>

const WIDTH = 560
const HEIGHT = 260

/** Loss per batch (thin line) and the mean per epoch (points), over optimizer steps. */
export function lossChart(batches: BatchPoint[], history: EpochEnd[], batchesPerEpoch: number): ChartSpec {
  const epochs = history.map((e) => ({ step: (e.epoch - 1) * batchesPerEpoch + e.batches, epoch: e.epoch, loss: e.trainLoss, series: 'train, epoch mean' }))
  const tests = history.filter((e) => e.testLoss !== null).map((e) => ({ step: (e.epoch - 1) * batchesPerEpoch + e.batches, epoch: e.epoch, loss: e.testLoss, series: 'test, after epoch' }))
  const x = { field: 'step', type: 'quantitative', title: 'optimizer step' }
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: ['train, per batch', 'train, epoch mean', 'test, after epoch'], range: ['#9ecae9', '#1f77b4', '#d62728'] } }
  return {
    title: 'Loss',
    width: WIDTH,
    height: HEIGHT,
    layer: [
      { data: { values: batches.map((b) => ({ ...b, series: 'train, per batch' })) }, mark: { type: 'line', strokeWidth: 1 }, encoding: { x, y: { field: 'loss', type: 'quantitative', title: 'cross-entropy' }, color } },
      { data: { values: [...epochs, ...tests] }, mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y: { field: 'loss', type: 'quantitative' }, color } },
    ],
  }
}

export function accuracyChart(history: EpochEnd[]): ChartSpec {
  const values = history.flatMap((e) => [
    ...(e.trainAccuracy === null ? [] : [{ epoch: e.epoch, accuracy: e.trainAccuracy, set: 'train' }]),
    ...(e.testAccuracy === null ? [] : [{ epoch: e.epoch, accuracy: e.testAccuracy, set: 'test' }]),
  ])
  return {
    title: 'Accuracy per epoch',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 }, title: 'epoch' },
      y: { field: 'accuracy', type: 'quantitative', axis: { format: '.1%' }, scale: { zero: false }, title: 'accuracy' },
      color: { field: 'set', type: 'nominal', title: null, scale: { domain: ['train', 'test'], range: ['#1f77b4', '#d62728'] } },
    },
  }
}

export function learningRateChart(batches: BatchPoint[], history: EpochEnd[], batchesPerEpoch: number): ChartSpec {
  const values = batches.length > 0 ? batches : history.map((e) => ({ step: (e.epoch - 1) * batchesPerEpoch + e.batches, learningRate: e.learningRate }))
  return {
    title: 'Learning rate',
    width: WIDTH,
    height: 160,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: { x: { field: 'step', type: 'quantitative', title: 'optimizer step' }, y: { field: 'learningRate', type: 'quantitative', title: 'learning rate' } },
  }
}

/** [actual][predicted] counts as a heatmap, each cell labelled with its count. */
export function confusionChart(matrix: number[][], classNames: string[]): ChartSpec {
  const values = matrix.flatMap((row, actual) => row.map((count, predicted) => ({ actual: classNames[actual], predicted: classNames[predicted], count })))
  const max = Math.max(1, ...values.map((v) => v.count))
  const axis = (field: string, title: string) => ({ field, type: 'ordinal', sort: classNames, title, axis: { labelAngle: 0 } })
  return {
    title: 'Confusion matrix (test)',
    width: 360,
    height: 360,
    data: { values },
    encoding: { x: axis('predicted', 'predicted'), y: axis('actual', 'actual') },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', type: 'sqrt' }, title: 'count' } } },
      { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' } } },
    ],
  }
}
