// convtorch export: a trained model for another framework (PyTorch source and weights, or ONNX).
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Option, type Command } from '@commander-js/extra-typings'
import { readCheckpoint } from '../checkpoint/checkpoint'
import { exportOnnxFile } from '../export/onnx-file'
import { pytorchSource } from '../export/pytorch-source'
import { choiceOption, UsageError } from './flags'

const DEFAULT_OUT = { pytorch: 'model.py', onnx: 'model.onnx' } as const

async function onnxExport(model: string, out: string): Promise<void> {
  if (!out.endsWith('.onnx')) throw new UsageError(`--out must name a .onnx file for --format onnx, got '${out}'`)
  const written = await exportOnnxFile(model, out)
  process.stdout.write(`Wrote ${out} (${written.bytes} bytes, ONNX opset 17): input "input" [batch, C, H, W] pixels in [0, 1], outputs "logits" and "probabilities"\n`)
}

async function pytorchExport(model: string, out: string, className: string): Promise<void> {
  if (!out.endsWith('.py')) throw new UsageError(`--out must name a .py file for --format pytorch, got '${out}'`)
  const saved = await readCheckpoint(model)
  const source = pytorchSource(saved.model.spec, { className })
  const weights = `${out.slice(0, -'.py'.length)}.safetensors`
  await mkdir(dirname(out) || '.', { recursive: true })
  await writeFile(out, source)
  await copyFile(saved.weights, weights)
  const module = out.replace(/^.*\//, '').slice(0, -3)
  process.stdout.write(`Wrote ${out} (class ${className}) and ${weights}\n`)
  process.stdout.write(`In Python: from ${module} import load; model = load(${JSON.stringify(weights.replace(/^.*\//, ''))})\n`)
}

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('a trained model as PyTorch source and weights, or as ONNX')
    .option('--model <dir>', 'a run or checkpoint directory')
    .addOption(
      choiceOption(
        '--format <f>',
        'pytorch: the torch.nn.Module source of the spec (model.py) and its weights beside it (model.safetensors), loadable with strict=True; onnx: one .onnx file (opset 17, dynamic batch) for ONNX Runtime',
        ['pytorch', 'onnx'],
      ).default('pytorch'),
    )
    .option('--out <file>', "the module's path (default: model.py), or the .onnx file (default: model.onnx)")
    .addOption(new Option('--class-name <name>', "the PyTorch module's class name").default('ConvtorchNet'))
    .addHelpText('after', '\nExamples:\n  convtorch export --model runs/latest --format pytorch --out model.py\n  convtorch export --model runs/latest --format onnx --out model.onnx')
    .action(async (options) => {
      if (options.model === undefined) throw new UsageError('--model is required (a run or checkpoint directory)')
      const out = options.out ?? DEFAULT_OUT[options.format]
      if (options.format === 'onnx') await onnxExport(options.model, out)
      else await pytorchExport(options.model, out, options.className)
    })
}
