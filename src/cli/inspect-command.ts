import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { normalisedCopy } from '../data/dataset'
import { sharp } from '../image/decode'
import { checkPreprocess, modelInputFromFile } from '../image/preprocess'
import { composeInspection } from '../inspect/compose'
import { inspectImage } from '../inspect/inspect-image'
import { choiceFlag, integerFlag, UsageError } from './args'
import { loadModelSource } from './model-source'

export const INSPECT_HELP = `Usage: convtorch inspect --model RUN_DIR|CHECKPOINT_DIR IMAGE [options]

Draws what the network sees in one image: the first convolution's learned filters, the feature
maps after each convolution and pooling layer, and a Grad-CAM heat map of the evidence.

  --model M           a run or checkpoint directory (or a preset with --weights)
  --weights FILE      parameters from a safetensors file
  --out FILE          the picture (maps.png)
  --class K           the class Grad-CAM explains (default: the predicted one)
  --preprocess P      mnist | resize (as for predict)
  --device D          auto | cpu | cuda | cuda:N (auto)
`

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, weights: { type: 'string' }, out: { type: 'string' }, class: { type: 'string' }, preprocess: { type: 'string' }, device: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    process.stdout.write(INSPECT_HELP)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError(`convtorch inspect: name one image file, got ${positionals.length}`)
  const { model } = await loadModelSource('inspect', values.model, values.weights, values.device)
  const camClass = integerFlag('inspect', 'class', values.class, 0)
  if (camClass !== undefined && camClass >= model.classes) throw new UsageError(`convtorch inspect: --class must be below the model's ${model.classes} classes, got '${values.class}'`)
  const preprocess = checkPreprocess('convtorch inspect', choiceFlag('inspect', 'preprocess', values.preprocess, ['mnist', 'resize'] as const), model.spec.input)
  const [channels, height, width] = model.spec.input
  const display = await modelInputFromFile(positionals[0], preprocess, model.spec.input)
  const image = normalisedCopy(display, model.spec.input, model.normalise)
  const inspection = await inspectImage(model, image, display, camClass)
  const interleaved = Buffer.alloc(display.length)
  for (let i = 0; i < height * width; i++) for (let c = 0; c < channels; c++) interleaved[i * channels + c] = Math.round(display[c * height * width + i] * 255)
  const input = await sharp()(interleaved, { raw: { width, height, channels: channels as 1 | 3 } }).resize(width * 6, height * 6, { kernel: 'nearest' }).png().toBuffer()
  const names = (k: number) => model.classNames?.[k] ?? String(k)
  const out = values.out ?? 'maps.png'
  await writeFile(out, await composeInspection(inspection, input, names))
  process.stdout.write(`${positionals[0]}: ${names(inspection.predicted)} (${(inspection.probabilities[inspection.predicted] * 100).toFixed(1)}%); wrote ${out}\n`)
  return 0
}
