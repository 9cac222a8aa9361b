// convtorch inspect: what a network sees in one image, drawn into one PNG.
import { writeFile } from 'node:fs/promises'
import { Option, type Command } from '@commander-js/extra-typings'
import { normalisedCopy } from '../data/dataset'
import { sharp } from '../image/decode'
import { checkPreprocess, modelInputFromFile } from '../image/preprocess'
import { composeInspection } from '../inspect/compose'
import { inspectImage } from '../inspect/inspect-image'
import { choiceOption, deviceOption, integerOption, UsageError } from './flags'
import { loadModelSource } from './model-source'
import { PREPROCESS_HELP } from './predict-command'

export function inspectCommand(program: Command): void {
  program
    .command('inspect')
    .description("what a model sees in an image: the first convolution's filters, feature maps after each convolution and pooling layer, a Grad-CAM heat map")
    .argument('<image>', 'an image file (PNG, JPEG, WebP)')
    .option('--model <m>', 'a run or checkpoint directory (or a preset with --weights)')
    .option('--weights <file>', 'parameters from a safetensors file')
    .addOption(new Option('--out <file>', 'the picture').default('maps.png'))
    .addOption(integerOption('--class <k>', 'the class Grad-CAM explains (default: the predicted one)', 0))
    .addOption(choiceOption('--preprocess <p>', PREPROCESS_HELP, ['mnist', 'resize']))
    .addOption(deviceOption().default('auto'))
    .addHelpText('after', '\nExample:\n  convtorch inspect --model runs/latest my-digit.png --out maps.png')
    .action(async (file, options) => {
      const { model } = await loadModelSource(options.model, options.weights, options.device)
      const camClass = options.class
      if (camClass !== undefined && camClass >= model.classes) throw new UsageError(`--class must be below the model's ${model.classes} classes, got '${camClass}'`)
      const preprocess = checkPreprocess('inspect', options.preprocess, model.spec.input)
      const [channels, height, width] = model.spec.input
      const display = await modelInputFromFile(file, preprocess, model.spec.input)
      const image = normalisedCopy(display, model.spec.input, model.normalise)
      const inspection = await inspectImage(model, image, display, camClass)
      const interleaved = Buffer.alloc(display.length)
      for (let i = 0; i < height * width; i++) for (let c = 0; c < channels; c++) interleaved[i * channels + c] = Math.round(display[c * height * width + i] * 255)
      const input = await sharp()(interleaved, { raw: { width, height, channels: channels as 1 | 3 } }).resize(width * 6, height * 6, { kernel: 'nearest' }).png().toBuffer()
      const names = (k: number) => model.classNames?.[k] ?? String(k)
      await writeFile(options.out, await composeInspection(inspection, input, names))
      process.stdout.write(`${file}: ${names(inspection.predicted)} (${(inspection.probabilities[inspection.predicted] * 100).toFixed(1)}%); wrote ${options.out}\n`)
    })
}
