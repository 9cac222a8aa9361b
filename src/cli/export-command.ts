import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { readCheckpoint } from '../checkpoint/checkpoint'
import { exportOnnxFile } from '../export/onnx-file'
import { pytorchSource } from '../export/pytorch-source'
import { choiceFlag, UsageError } from './args'

export const EXPORT_HELP = `Usage: convtorch export --model RUN_DIR|CHECKPOINT_DIR --format pytorch|onnx --out FILE

Writes the model for another framework.

  --model DIR         a run or checkpoint directory
  --format F          pytorch: the torch.nn.Module source of the spec (model.py) and its
                      weights beside it (model.safetensors), loadable with strict=True;
                      onnx: one .onnx file (opset 17, dynamic batch) for ONNX Runtime
  --out FILE          the module's path (model.py) or the .onnx file (model.onnx)
  --class-name NAME   the module's class name (ConvtorchNet)
`

export async function exportCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, 'class-name': { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(EXPORT_HELP)
    return 0
  }
  if (values.model === undefined) throw new UsageError('convtorch export: --model is required (a run or checkpoint directory)')
  const format = choiceFlag('export', 'format', values.format ?? 'pytorch', ['pytorch', 'onnx'] as const)!
  if (format === 'onnx') return onnxExport(values.model, values.out ?? 'model.onnx')
  const out = values.out ?? 'model.py'
  if (!out.endsWith('.py')) throw new UsageError(`convtorch export: --out must name a .py file for --format ${format}, got '${out}'`)
  const saved = await readCheckpoint(values.model)
  const source = pytorchSource(saved.model.spec, { className: values['class-name'] })
  const weights = `${out.slice(0, -'.py'.length)}.safetensors`
  await mkdir(dirname(out) || '.', { recursive: true })
  await writeFile(out, source)
  await copyFile(saved.weights, weights)
  const module = out.replace(/^.*\//, '').slice(0, -3)
  process.stdout.write(`Wrote ${out} (class ${values['class-name'] ?? 'ConvtorchNet'}) and ${weights}\n`)
  process.stdout.write(`In Python: from ${module} import load; model = load(${JSON.stringify(weights.replace(/^.*\//, ''))})\n`)
  return 0
}

async function onnxExport(model: string, out: string): Promise<number> {
  if (!out.endsWith('.onnx')) throw new UsageError(`convtorch export: --out must name a .onnx file for --format onnx, got '${out}'`)
  const written = await exportOnnxFile(model, out)
  process.stdout.write(`Wrote ${out} (${written.bytes} bytes, ONNX opset 17): input "input" [batch, C, H, W] pixels in [0, 1], outputs "logits" and "probabilities"\n`)
  return 0
}
