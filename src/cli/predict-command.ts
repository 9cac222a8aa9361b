import { parseArgs } from 'node:util'
import { listImageFiles } from '../image/list-files'
import { checkPreprocess } from '../image/preprocess'
import { predictFiles } from '../predict/predict-files'
import { choiceFlag, integerFlag, UsageError } from './args'
import { loadModelSource } from './model-source'
import { formatTable } from './table'

export const PREDICT_HELP = `Usage: convtorch predict --model RUN_DIR|CHECKPOINT_DIR|seed|spec.json [options] IMAGE|DIR...

Predicts the class of image files (PNG, JPEG, WebP; directories are searched, sorted).

  --model M           a run or checkpoint directory, a preset, or a spec JSON file
  --weights FILE      parameters from a safetensors file (ours, or a PyTorch state_dict)
  --top K             the K most probable classes per image (3)
  --preprocess P      mnist (invert a light background, crop, fit 20x20, centre by mass:
                      the default for 1x28x28 models) | resize (a plain resize)
  --device D          auto | cpu | cuda | cuda:N (auto)
  --json              one JSON object per image on stdout
`

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      top: { type: 'string' },
      preprocess: { type: 'string' },
      device: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    process.stdout.write(PREDICT_HELP)
    return 0
  }
  if (positionals.length === 0) throw new UsageError('convtorch predict: name at least one image file or directory')
  const preprocessFlag = choiceFlag('predict', 'preprocess', values.preprocess, ['mnist', 'resize'] as const)
  const { model } = await loadModelSource('predict', values.model, values.weights, values.device)
  const files = await listImageFiles(positionals)
  if (files.length === 0) throw new UsageError(`convtorch predict: no image files (.png, .jpg, .jpeg, .webp) in ${positionals.join(', ')}`)
  const preprocess = checkPreprocess('convtorch predict', preprocessFlag, model.spec.input)
  const predictions = await predictFiles(model, files, { top: integerFlag('predict', 'top', values.top, 1), preprocess })
  const label = (k: number, name?: string) => name ?? String(k)
  if (values.json) {
    for (const p of predictions) {
      process.stdout.write(`${JSON.stringify({ file: p.file, label: p.label, className: p.className ?? null, probabilities: Array.from(p.probabilities), top: p.top })}\n`)
    }
    return 0
  }
  const rows = predictions.map((p) => [p.file, label(p.label, p.className), p.top.map((s) => `${label(s.label, s.className)} ${(s.probability * 100).toFixed(1)}%`).join('  ')])
  process.stdout.write(`${formatTable([['file', 'label', 'top'], ...rows], ['left', 'right', 'left']).join('\n')}\n`)
  return 0
}
