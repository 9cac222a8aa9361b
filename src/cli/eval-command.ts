import { parseArgs } from 'node:util'
import { resolveData } from '../data/sources'
import { evaluate, type EvaluationReport } from '../evaluation/evaluate'
import { integerFlag } from './args'
import { loadModelSource } from './model-source'
import { formatTable } from './table'

export const EVAL_HELP = `Usage: convtorch eval --model RUN_DIR|CHECKPOINT_DIR|seed|spec.json [options]

Evaluates a model on a test set: loss, accuracy, confusion matrix, per-class precision/recall/F1.

  --model M           a run or checkpoint directory, a preset, or a spec JSON file
  --weights FILE      parameters from a safetensors file (ours, or a PyTorch state_dict)
  --data SRC          mnist (bundled) | DIR of IDX files | http(s) mirror URL (mnist)
  --device D          auto | cpu | cuda | cuda:N (auto)
  --batch-size N      examples per forward pass (256)
  --cache-dir DIR     download cache for --data URL
  --json              one JSON object on stdout
`

const percent = (x: number) => `${(x * 100).toFixed(2)}%`

export function formatEvaluation(report: EvaluationReport, classNames: string[] | null): string[] {
  const name = (k: number) => classNames?.[k] ?? String(k)
  const perClass = formatTable(
    [['class', 'precision', 'recall', 'f1', 'support'], ...report.perClass.map((c) => [name(c.class), c.precision.toFixed(4), c.recall.toFixed(4), c.f1.toFixed(4), String(c.support)])],
  )
  const matrix = formatTable([['actual \\ predicted', ...report.confusionMatrix.map((_, k) => name(k))], ...report.confusionMatrix.map((row, k) => [name(k), ...row.map(String)])])
  return [`Accuracy: ${percent(report.accuracy)} (${report.correct}/${report.count})`, `Loss: ${report.loss.toFixed(4)}`, '', ...perClass, '', 'Confusion matrix (rows: actual, columns: predicted)', ...matrix]
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      data: { type: 'string' },
      device: { type: 'string' },
      'batch-size': { type: 'string' },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(EVAL_HELP)
    return 0
  }
  const { model, weights } = await loadModelSource('eval', values.model, values.weights, values.device)
  const data = await resolveData(values.data ?? 'mnist', { cacheDir: values['cache-dir'] })
  const report = await evaluate(model, data.test, { batchSize: integerFlag('eval', 'batch-size', values['batch-size'], 1) })
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ model: values.model, weights, data: data.source, device: model.device, ...report, classNames: model.classNames })}\n`)
  } else {
    process.stdout.write(`Model: ${values.model} | weights ${weights} | data ${data.source} (test, ${data.test.count}) | device ${model.device}\n`)
    process.stdout.write(`${formatEvaluation(report, model.classNames).join('\n')}\n`)
  }
  return 0
}
