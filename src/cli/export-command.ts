// convtorch export: a trained model for another framework.
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Option, type Command } from '@commander-js/extra-typings'
import { readCheckpoint } from '../checkpoint/checkpoint'
import { pytorchSource } from '../export/pytorch-source'
import { choiceOption, UsageError } from './flags'

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('a trained model as PyTorch source and weights')
    .option('--model <dir>', 'a run or checkpoint directory')
    .addOption(choiceOption('--format <f>', 'pytorch: the torch.nn.Module source of the spec (model.py) and its weights beside it (model.safetensors), loadable with strict=True', ['pytorch']).default('pytorch'))
    .addOption(new Option('--out <file>', "the module's path").default('model.py'))
    .addOption(new Option('--class-name <name>', "the module's class name").default('ConvtorchNet'))
    .addHelpText('after', '\nExample:\n  convtorch export --model runs/latest --format pytorch --out model.py')
    .action(async (options) => {
      if (options.model === undefined) throw new UsageError('--model is required (a run or checkpoint directory)')
      const { out, format, className } = options
      if (!out.endsWith('.py')) throw new UsageError(`--out must name a .py file for --format ${format}, got '${out}'`)
      const saved = await readCheckpoint(options.model)
      const source = pytorchSource(saved.model.spec, { className })
      const weights = `${out.slice(0, -'.py'.length)}.safetensors`
      await mkdir(dirname(out) || '.', { recursive: true })
      await writeFile(out, source)
      await copyFile(saved.weights, weights)
      const module = out.replace(/^.*\//, '').slice(0, -3)
      process.stdout.write(`Wrote ${out} (class ${className}) and ${weights}\n`)
      process.stdout.write(`In Python: from ${module} import load; model = load(${JSON.stringify(weights.replace(/^.*\//, ''))})\n`)
    })
}
