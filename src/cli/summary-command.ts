import { existsSync, statSync } from 'node:fs'
import { Option, type Command } from '@commander-js/extra-typings'
import { readCheckpoint } from '../checkpoint/checkpoint'
import { formatShape, inferShapes } from '../model/shapes'
import { preset } from '../model/presets'
import type { ModelSpec } from '../model/spec'
import { modelArgument } from './model-arg'

/** A torchsummary-like table: each layer's output shape and parameter count, and the totals. */
export function summary(spec: ModelSpec): string {
  const layers = inferShapes(spec)
  const rows = [['Layer (type)', 'Output shape', 'Param #'], ['input', formatShape(spec.input), '0']]
  for (const layer of layers) {
    const label = layer.name === String(layer.index) ? `${layer.type}-${layer.index}` : `${layer.name} (${layer.type})`
    rows.push([label, formatShape(layer.output), layer.parameters.toLocaleString('en-US')])
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)))
  const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padStart(widths[2])}`
  const rule = '-'.repeat(widths[0] + widths[1] + widths[2] + 4)
  const total = layers.reduce((sum, l) => sum + l.parameters, 0)
  return [rule, line(rows[0]), rule, ...rows.slice(1).map(line), rule, `Total params: ${total.toLocaleString('en-US')}`, `Trainable params: ${total.toLocaleString('en-US')}`, rule].join('\n')
}

/** --model for summary: a preset, a spec file, a checkpoint's model.json, or a run or checkpoint directory. */
async function specOf(raw: string): Promise<ModelSpec> {
  if (existsSync(raw) && statSync(raw).isDirectory()) return (await readCheckpoint(raw)).model.spec
  const model = modelArgument(raw) ?? 'seed'
  return typeof model === 'string' ? preset(model) : model
}

export function summaryCommand(program: Command): void {
  program
    .command('summary')
    .description("each layer's output shape and parameter count, checked before any tensor exists")
    .addOption(new Option('--model <m>', 'a preset (seed, strong), a spec JSON file, a model.json of a checkpoint, or a run or checkpoint directory').default('seed'))
    .option('--json', 'one JSON object: the input, the layers, the total parameter count')
    .addHelpText('after', '\nExamples:\n  convtorch summary --model strong\n  convtorch summary --model runs/latest')
    .action(async (options) => {
      const spec = await specOf(options.model)
      if (options.json) {
        const layers = inferShapes(spec)
        process.stdout.write(`${JSON.stringify({ input: spec.input, layers, totalParameters: layers.reduce((s, l) => s + l.parameters, 0) })}\n`)
      } else {
        process.stdout.write(`${summary(spec)}\n`)
      }
    })
}
