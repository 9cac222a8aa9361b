import { constants as osConstants } from 'node:os'
import { parseArgs } from 'node:util'
import type { Callback } from '../training/callbacks'
import { train, TrainingAbortedError } from '../training/train'
import { choiceFlag, integerFlag, numberFlag, UsageError } from './args'
import { modelArgument } from './model-arg'
import { earlyStopping } from '../training/early-stopping'
import { tensorboard } from '../training/tensorboard-callback'
import { MONITORS } from '../training/monitor'
import { chooseReporter } from './choose-reporter'
import { parseSchedule } from '../training/schedule'
import { parseAugment } from '../training/augment'
import type { TrainOptions } from '../training/options'
import type { OptimizerOptions } from '../model/optimizer'

/** A closed terminal (SIGHUP), kill (SIGTERM) and Ctrl-C all stop a run the same way: checkpointed. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

type OptimizerFlags = { optimizer?: string; momentum?: string; nesterov?: boolean; 'weight-decay'?: string; lr?: string }

function optimizerFlags(values: OptimizerFlags, resuming: boolean): OptimizerOptions | undefined {
  // A resumed run keeps its optimizer unless a flag names one (which must then match).
  if (resuming && values.optimizer === undefined && values.momentum === undefined && !values.nesterov && values['weight-decay'] === undefined && values.lr === undefined) return undefined
  const kind = choiceFlag('train', 'optimizer', values.optimizer, ['sgd', 'adam', 'adamW'] as const) ?? 'sgd'
  const lr = numberFlag('train', 'lr', values.lr, (n) => n > 0, 'a number > 0') ?? (kind === 'sgd' ? 0.05 : 0.001)
  const weightDecay = numberFlag('train', 'weight-decay', values['weight-decay'], (n) => n >= 0, 'a number >= 0')
  const momentum = numberFlag('train', 'momentum', values.momentum, (n) => n >= 0 && n < 1, 'a number in [0, 1)')
  if (kind === 'sgd') return { kind, lr, momentum, weightDecay, nesterov: values.nesterov || undefined }
  if (momentum !== undefined || values.nesterov) throw new UsageError(`convtorch train: --momentum and --nesterov apply to --optimizer sgd, got --optimizer ${kind}`)
  return { kind, lr, weightDecay }
}

function imageFolderFlags(values: { 'image-size'?: string; resize?: boolean; channels?: string; 'skip-bad-images'?: boolean }): TrainOptions['imageFolder'] {
  const size = values['image-size']
  const match = size === undefined ? null : /^(\d+)x(\d+)$/.exec(size)
  if (size !== undefined && (!match || Number(match[1]) < 1 || Number(match[2]) < 1)) throw new UsageError(`convtorch train: --image-size must be HxW such as 32x32, got '${size}'`)
  const channels = choiceFlag('train', 'channels', values.channels, ['1', '3'] as const)
  return {
    imageSize: match ? [Number(match[1]), Number(match[2])] : undefined,
    resize: values.resize || undefined,
    channels: channels === undefined ? undefined : (Number(channels) as 1 | 3),
    skipBadImages: values['skip-bad-images'] || undefined,
    onWarning: (message) => process.stderr.write(`convtorch: warning: ${message}\n`),
    onProgress: decodingProgress(),
  }
}

/** "Decoding images: 1200/5000" on stderr, at most a few times a second, for large folders. */
function decodingProgress(): (done: number, total: number) => void {
  let last = 0
  return (done, total) => {
    const now = Date.now()
    // A pipe or a log gets the last line only; a terminal sees it count.
    if (done < total && (!process.stderr.isTTY || now - last < 250)) return
    last = now
    process.stderr.write(`convtorch: decoding images ${done}/${total}${done === total ? '\n' : '\r'}`)
  }
}

function normaliseFlag(raw: string | undefined): TrainOptions['normalise'] {
  if (raw === undefined || raw === 'auto') return raw
  const [mean, std] = raw.split(',').map(Number)
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std > 0) || raw.split(',').length !== 2) throw new UsageError(`convtorch train: --normalise must be auto or MEAN,STD with STD > 0, got '${raw}'`)
  return { mean, std }
}

export const TRAIN_HELP = `Usage: convtorch train [options]

Trains a ConvNet (by default the seed tutorial's) and reports like the seed script.

  --epochs N          epochs (10)
  --batch-size N      examples per batch (128)
  --lr X              learning rate (0.05)
  --seed N            seeds every random generator (1)
  --device D          auto | cpu | cuda | cuda:N (auto)
  --data SRC          mnist (bundled) | DIR: IDX files, CIFAR-10 binaries, or images in class
                      folders (DIR/<class>/*.png|jpg|webp, or DIR/train/<class>/... with test/
                      or val/) | http(s) mirror URL (mnist)
  --image-size HxW    image folders: the size (default: the first image's)
  --resize            image folders: stretch images of another size instead of refusing them
  --channels 1|3      image folders: grey or colour (default: colour if any file is)
  --skip-bad-images   image folders: skip unreadable files with a warning instead of failing
  --validation-split F  hold out F of each class of train for validation every epoch
  --model M           a preset (seed, strong) or a spec JSON file (seed)
  --init I            seed | default | xavier (seed)
  --shuffle S         torch (the seed script's DataLoader order) | seeded (torch)
  --optimizer O       sgd | adam | adamW (sgd)
  --momentum X        SGD momentum (0)
  --nesterov          Nesterov momentum (SGD)
  --weight-decay X    L2 penalty (SGD, Adam) or decoupled decay (AdamW) (0; AdamW 0.01)
  --schedule S        constant | step:stepSize=N,gamma=X | exponential:gamma=X |
                      cosine[:minLr=X] | oneCycle:maxLr=X[,pctStart=X]; add per=step to
                      apply per step (oneCycle always is) (constant)
  --augment A         on-device augmentation of every training batch, e.g.
                      crop=4,flip,rotate=10,scale=0.1,translate=0.1 (off)
  --normalise N       auto (each channel's mean and std on the training set) | MEAN,STD
                      (one pair for all channels) (off: pixels in [0, 1])
  --out DIR           the run directory: checkpoint (last), best, history.json, report.json
                      (runs/latest; with --resume, the resumed run's)
  --resume DIR        continue the run in DIR (or a checkpoint directory) from its last
                      checkpoint to --epochs in total; other options are the run's own
  --early-stopping N  stop when test loss has not improved for N epochs, then restore the
                      best epoch's weights (--monitor testAccuracy|testLoss|trainLoss)
  --cache-dir DIR     download cache for --data URL (~/.cache/convtorch/datasets)
  --tensorboard DIR   TensorBoard event files in DIR (scalars per batch and epoch, the confusion
                      matrix image)
  --no-report         no report.html and PNGs in the run directory (written by default)
  --quiet             only the final lines (total time, test accuracy, checkpoint)
  --json              one JSON object per event on stdout, nothing else
  On a terminal, a live bar per epoch and a summary line per epoch; through a pipe, with
  NO_COLOR, CI or TERM=dumb, the seed script's log lines.
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
      shuffle: { type: 'string' },
      optimizer: { type: 'string' },
      momentum: { type: 'string' },
      nesterov: { type: 'boolean', default: false },
      'weight-decay': { type: 'string' },
      augment: { type: 'string' },
      'image-size': { type: 'string' },
      resize: { type: 'boolean', default: false },
      channels: { type: 'string' },
      'skip-bad-images': { type: 'boolean', default: false },
      'validation-split': { type: 'string' },
      normalise: { type: 'string' },
      schedule: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      'early-stopping': { type: 'string' },
      monitor: { type: 'string' },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'no-report': { type: 'boolean', default: false },
      tensorboard: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(TRAIN_HELP)
    return 0
  }
  const resuming = values.resume !== undefined
  const device = values.device ?? (resuming ? undefined : 'auto')
  if (device !== undefined && !/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`convtorch train: --device must be auto, cpu, cuda or cuda:N, got '${device}'`)
  const write = (line: string) => process.stdout.write(`${line}\n`)
  if (values.json && values.quiet) throw new UsageError('convtorch train: --quiet and --json exclude each other (--json already prints only JSON)')
  const reporter = chooseReporter({ json: values.json, quiet: values.quiet })
  const halt = () => ('halt' in reporter ? reporter.halt() : undefined)
  const out = values.out ?? (resuming ? undefined : 'runs/latest')
  const patience = integerFlag('train', 'early-stopping', values['early-stopping'], 0)
  const monitor = choiceFlag('train', 'monitor', values.monitor, MONITORS)
  if (monitor !== undefined && patience === undefined) throw new UsageError('convtorch train: --monitor applies to --early-stopping N, which is missing')
  const callbacks = [reporter, ...(patience === undefined ? [] : [earlyStopping({ patience, monitor, restoreBest: true })]), ...(values.tensorboard === undefined ? [] : [tensorboard({ dir: values.tensorboard })])]
  const controller = new AbortController()
  let interrupts = 0
  let exitCode = 130
  // Before training starts (reading, decoding, downloading data) there is nothing to save, and
  // a read blocked on a FIFO or a stalled disk would never reach the abort check.
  let training = false
  const trainingStarted: Callback = { onTrainBegin: () => void (training = true) }
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++
    exitCode = 128 + (osConstants.signals[signal] ?? 2)
    halt() // the bar goes before the message, so the terminal is left with clean lines
    if (!training) {
      process.stderr.write(`\nconvtorch: ${signal} before training started; nothing to save, exiting\n`)
      process.exit(exitCode)
    }
    if (interrupts > 1) process.exit(exitCode)
    process.stderr.write(`\nconvtorch: ${signal}: stopping after the current batches and saving a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit at once)\n`)
    controller.abort()
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  try {
    await train({
      epochs: integerFlag('train', 'epochs', values.epochs, 1),
      batchSize: integerFlag('train', 'batch-size', values['batch-size'], 1),
      seed: integerFlag('train', 'seed', values.seed, 0),
      device,
      data: values.data ?? (resuming ? undefined : 'mnist'),
      model: modelArgument(values.model),
      init: choiceFlag('train', 'init', values.init, ['seed', 'default', 'xavier'] as const),
      shuffle: choiceFlag('train', 'shuffle', values.shuffle, ['torch', 'seeded'] as const),
      optimizer: optimizerFlags(values, resuming),
      schedule: values.schedule === undefined ? undefined : parseSchedule(values.schedule),
      augment: values.augment === undefined ? undefined : (parseAugment(values.augment) ?? undefined),
      normalise: normaliseFlag(values.normalise),
      validationSplit: numberFlag('train', 'validation-split', values['validation-split'], (n) => n > 0 && n < 1, 'a fraction in (0, 1)'),
      imageFolder: imageFolderFlags(values),
      out,
      resume: values.resume,
      cacheDir: values['cache-dir'],
      report: values['no-report'] ? false : undefined,
      signal: controller.signal,
      callbacks: [trainingStarted, ...callbacks],
    })
    return 0
  } catch (error) {
    if (error instanceof TrainingAbortedError) {
      process.stderr.write(`convtorch: ${error.message}\n`)
      if (values.json) write(JSON.stringify({ event: 'aborted', message: error.message, checkpoint: error.checkpoint, history: error.history }))
      return exitCode
    }
    throw error
  } finally {
    halt()
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
  }
}
