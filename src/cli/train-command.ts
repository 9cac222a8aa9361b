import { parseArgs } from 'node:util'
import { train, TrainingAbortedError } from '../training/train'
import { choiceFlag, integerFlag, numberFlag, UsageError } from './args'
import { modelArgument } from './model-arg'
import { jsonReporter, plainReporter } from './reporters'

export const TRAIN_HELP = `Usage: convtorch train [options]

Trains a ConvNet (by default the seed tutorial's) and reports like the seed script.

  --epochs N          epochs (10)
  --batch-size N      examples per batch (128)
  --lr X              learning rate (0.05)
  --seed N            seeds every random generator (1)
  --device D          auto | cpu | cuda | cuda:N (auto)
  --data SRC          mnist (bundled) | DIR of IDX files | http(s) mirror URL (mnist)
  --model M           a preset (seed, strong) or a spec JSON file (seed)
  --init I            seed | default | xavier (seed)
  --out DIR           checkpoint, history.json and report.json (runs/latest)
  --cache-dir DIR     download cache for --data URL (~/.cache/convtorch/datasets)
  --json              one JSON object per event on stdout, nothing else
`

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      device: { type: 'string' },
      data: { type: 'string' },
      model: { type: 'string' },
      init: { type: 'string' },
      out: { type: 'string' },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(TRAIN_HELP)
    return 0
  }
  const device = values.device ?? 'auto'
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`convtorch train: --device must be auto, cpu, cuda or cuda:N, got '${device}'`)
  const write = (line: string) => process.stdout.write(`${line}\n`)
  const reporter = values.json ? jsonReporter(write) : plainReporter(write)
  const out = values.out ?? 'runs/latest'
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = () => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    process.stderr.write('\nconvtorch: stopping after the current batches and saving a checkpoint (Ctrl-C again to quit at once)\n')
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const result = await train({
      epochs: integerFlag('train', 'epochs', values.epochs, 1),
      batchSize: integerFlag('train', 'batch-size', values['batch-size'], 1),
      lr: numberFlag('train', 'lr', values.lr, (n) => n > 0, 'a number > 0'),
      seed: integerFlag('train', 'seed', values.seed, 0),
      device,
      data: values.data ?? 'mnist',
      model: modelArgument(values.model),
      init: choiceFlag('train', 'init', values.init, ['seed', 'default', 'xavier'] as const),
      out,
      cacheDir: values['cache-dir'],
      signal: controller.signal,
      callbacks: reporter,
    })
    reporter.onResult(result, `${out}/checkpoint`)
    return 0
  } catch (error) {
    if (error instanceof TrainingAbortedError) {
      process.stderr.write(`convtorch: ${error.message}\n`)
      if (values.json) write(JSON.stringify({ event: 'aborted', message: error.message, checkpoint: error.checkpoint, history: error.history }))
      return 130
    }
    throw error
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
