// convtorch predict: the classes of image files by a trained model.
import type { Command } from '@commander-js/extra-typings'
import { listImageFiles } from '../image/list-files'
import { checkPreprocess } from '../image/preprocess'
import { predictFiles } from '../predict/predict-files'
import { choiceOption, deviceOption, integerOption, UsageError } from './flags'
import { loadModelSource, MODEL_HELP } from './model-source'
import { formatTable } from './table'

export const PREPROCESS_HELP = 'mnist (invert a light background, crop, fit 20x20, centre by mass: the default for 1x28x28 models) | resize (a plain resize)'

export function predictCommand(program: Command): void {
  program
    .command('predict')
    .description('the classes of image files (PNG, JPEG, WebP; directories are searched, sorted) by a trained model')
    .argument('<images...>', 'image files or directories')
    .option('--model <m>', MODEL_HELP)
    .option('--weights <file>', 'parameters from a safetensors file (ours, or a PyTorch state_dict)')
    .addOption(integerOption('--top <k>', 'the K most probable classes per image', 1).default(3))
    .addOption(choiceOption('--preprocess <p>', PREPROCESS_HELP, ['mnist', 'resize']))
    .addOption(deviceOption().default('auto'))
    .option('--json', 'one JSON object per image on stdout')
    .addHelpText('after', '\nExample:\n  convtorch predict --model runs/latest my-digit.png')
    .action(async (images, options) => {
      const { model } = await loadModelSource(options.model, options.weights, options.device)
      const files = await listImageFiles(images)
      if (files.length === 0) throw new UsageError(`no image files (.png, .jpg, .jpeg, .webp) in ${images.join(', ')}`)
      const preprocess = checkPreprocess('predict', options.preprocess, model.spec.input)
      const predictions = await predictFiles(model, files, { top: options.top, preprocess })
      const label = (k: number, name?: string) => name ?? String(k)
      if (options.json) {
        for (const p of predictions) {
          process.stdout.write(`${JSON.stringify({ file: p.file, label: p.label, className: p.className ?? null, probabilities: Array.from(p.probabilities), top: p.top })}\n`)
        }
        return
      }
      const rows = predictions.map((p) => [p.file, label(p.label, p.className), p.top.map((s) => `${label(s.label, s.className)} ${(s.probability * 100).toFixed(1)}%`).join('  ')])
      process.stdout.write(`${formatTable([['file', 'label', 'top'], ...rows], ['left', 'right', 'left']).join('\n')}\n`)
    })
}
