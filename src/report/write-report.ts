// Writes a run's report.html and its PNGs (loss, accuracy, confusion) from one ReportInput;
// each file is written beside, then renamed: a reader never sees half a file.
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { accuracyChart, confusionChart, learningRateChart, lossChart } from './charts'
import { reportPage, type CompiledCharts } from './page'
import { chartPng, compileChart } from './render'
import type { ReportInput } from './report-input'

export const REPORT_FILES = { html: 'report.html', loss: 'loss.png', accuracy: 'accuracy.png', confusion: 'confusion.png' } as const

async function publish(path: string, contents: string | Buffer): Promise<void> {
  await writeFile(`${path}.partial`, contents)
  await rename(`${path}.partial`, path)
}

/** Writes the files into `dir` and returns their paths. */
export async function writeReport(dir: string, input: ReportInput): Promise<string[]> {
  const matrix = input.test?.report.confusionMatrix ?? input.classNames.map(() => input.classNames.map(() => 0))
  const charts: CompiledCharts = {
    loss: await compileChart(lossChart(input.batches, input.history, input.batchesPerEpoch)),
    accuracy: await compileChart(accuracyChart(input.history)),
    learningRate: await compileChart(learningRateChart(input.batches, input.history, input.batchesPerEpoch)),
    confusion: await compileChart(confusionChart(matrix, input.classNames)),
  }
  const written: string[] = []
  for (const name of ['loss', 'accuracy', 'confusion'] as const) {
    const path = join(dir, REPORT_FILES[name])
    await publish(path, await chartPng(charts[name]))
    written.push(path)
  }
  const html = join(dir, REPORT_FILES.html)
  await publish(html, reportPage(input, charts))
  return [html, ...written]
}
