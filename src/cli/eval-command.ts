// convtorch eval: how well a trained model does on a test set.
import { Option, type Command } from '@commander-js/extra-typings'
import { defaultCacheDir, resolveData } from '../data/sources'
import { evaluate, type EvaluationReport } from '../evaluation/evaluate'
import { deviceOption, integerOption } from './flags'
import { loadModelSource, MODEL_HELP } from './model-source'
import { formatTable } from './table'

const percent = (x: number) => `${(x * 100).toFixed(2)}%`

export function formatEvaluation(report: EvaluationReport, classNames: string[] | null): string[] {
  const name = (k: number) => classNames?.[k] ?? String(k)
  const perClass = formatTable(
    [['class', 'precision', 'recall', 'f1', 'support'], ...report.perClass.map((c) => [name(c.class), c.precision.toFixed(4), c.recall.toFixed(4), c.f1.toFixed(4), String(c.support)])],
  )
  const matrix = formatTable([['actual \\ predicted', ...report.confusionMatrix.map((_, k) => name(k))], ...report.confusionMatrix.map((row, k) => [name(k), ...row.map(String)])])
  return [`Accuracy: ${percent(report.accuracy)} (${report.correct}/${report.count})`, `Loss: ${report.loss.toFixed(4)}`, '', ...perClass, '', 'Confusion matrix (rows: actual, columns: predicted)', ...matrix]
}

export function evalCommand(program: Command): void {
  program
    .command('eval')
    .description('loss, accuracy, confusion matrix and per-class precision/recall/F1 of a trained model on a test set')
    .option('--model <m>', MODEL_HELP)
    .option('--weights <file>', 'parameters from a safetensors file (ours, or a PyTorch state_dict)')
    .addOption(new Option('--data <src>', 'mnist (bundled) | DIR of IDX files, CIFAR-10 binaries or image folders | http(s) mirror URL of MNIST').default('mnist'))
    .addOption(deviceOption().default('auto'))
    .addOption(integerOption('--batch-size <n>', 'examples per forward pass', 1).default(256))
    .addOption(new Option('--cache-dir <dir>', 'download cache for --data URL').default(defaultCacheDir()))
    .option('--json', 'one JSON object on stdout')
    .addHelpText('after', '\nExample:\n  convtorch eval --model runs/latest')
    .action(async (options) => {
      const { model, weights } = await loadModelSource(options.model, options.weights, options.device)
      const data = await resolveData(options.data, { cacheDir: options.cacheDir })
      const report = await evaluate(model, data.test, { batchSize: options.batchSize })
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ model: options.model, weights, data: data.source, device: model.device, ...report, classNames: model.classNames })}\n`)
      } else {
        process.stdout.write(`Model: ${options.model} | weights ${weights} | data ${data.source} (test, ${data.test.count}) | device ${model.device}\n`)
        process.stdout.write(`${formatEvaluation(report, model.classNames).join('\n')}\n`)
      }
    })
}
