// convtorch train: the seed job by default; every train() option as a flag; --resume.
import { constants as osConstants } from 'node:os'
import { Option, type Command } from '@commander-js/extra-typings'
import type { Callback } from '../training/callbacks'
import { defaultCacheDir } from '../data/sources'
import { OPTIMIZER_KINDS } from '../model/optimizer'
import { earlyStopping } from '../training/early-stopping'
import { MONITORS } from '../training/monitor'
import { resolveOptions } from '../training/options'
import { parseAugment } from '../training/augment'
import { parseSchedule } from '../training/schedule'
import { tensorboard } from '../training/tensorboard-callback'
import { distributedFromEnv } from '../training/distributed'
import { train, TrainingAbortedError } from '../training/train'
import { launchRanks } from './launch-ranks'
import { chooseReporter } from './choose-reporter'
import { silentReporter } from './reporters'
import { explicitOptions } from './explicit'
import { choiceOption, deviceOption, integerOption, numberOption, UsageError } from './flags'
import { modelArgument } from './model-arg'
import { latestLink, LATEST, newRunDirectory, removeIfEmpty, RUNS_DIR } from './run-directory'
import { imageFolderFromFlags, optimizerFromFlags, parseChannels, parseImageSize, parseNormalise } from './train-flags'

/** A closed terminal (SIGHUP), kill (SIGTERM) and Ctrl-C all stop a run the same way: checkpointed. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

// What train() does with an option left out: the help shows these, read from train() itself.
const DEFAULTS = resolveOptions({})

const AFTER_HELP = `
Runs go to a new directory runs/<date>_<time>/ (runs/${LATEST} links to the newest); --out DIR
writes elsewhere. On a terminal: a live bar and a summary line per epoch; through a pipe, with
NO_COLOR, CI or TERM=dumb: the seed script's log lines. Ctrl-C stops after the running
batches and saves a checkpoint; \`convtorch train --resume runs/${LATEST}\` continues it.

Examples:
  convtorch train --epochs 1
  convtorch train --model strong --epochs 5 --optimizer adam --lr 0.001 --init default
  convtorch train --data photos/ --model rgb.json --normalise auto --augment crop=4,flip --out runs/photos`

function defineTrain(program: Command) {
  return program
    .command('train')
    .description("train a ConvNet (the seed tutorial's by default) on MNIST, IDX, CIFAR-10 or image folders")
    .addOption(integerOption('--epochs <n>', 'epochs in total (with --resume: including those done)', 1).default(DEFAULTS.epochs))
    .addOption(integerOption('--batch-size <n>', 'examples per batch', 1).default(DEFAULTS.batchSize))
    .addOption(numberOption('--lr <x>', 'learning rate', (n) => n > 0, 'a number > 0').default(DEFAULTS.optimizer.lr, `${DEFAULTS.optimizer.lr} with sgd, 0.001 with adam and adamW`))
    .addOption(integerOption('--seed <n>', 'seeds every random generator', 0).default(DEFAULTS.seed))
    .addOption(deviceOption().default(DEFAULTS.device))
    .addOption(new Option('--data <src>', 'mnist (bundled) | DIR: IDX files, CIFAR-10 binaries, or images in class folders (DIR/<class>/*.png|jpg|webp, or DIR/train/<class>/... with test/ or val/) | http(s) mirror URL of MNIST').default('mnist'))
    .addOption(new Option('--image-size <HxW>', "image folders: the size (default: the first image's)").argParser(parseImageSize))
    .option('--resize', 'image folders: stretch images of another size instead of refusing them')
    .addOption(new Option('--channels <c>', 'image folders: 1 (grey) | 3 (colour) (default: colour if any file is)').argParser(parseChannels))
    .option('--skip-bad-images', 'image folders: skip unreadable files with a warning instead of failing')
    .addOption(numberOption('--validation-split <f>', 'hold out this share of each class of the training set, evaluated every epoch', (n) => n > 0 && n < 1, 'a fraction in (0, 1)'))
    .addOption(new Option('--model <m>', 'a preset (seed, strong), a spec JSON file, or a model.json of a checkpoint').default('seed'))
    .addOption(choiceOption('--init <name>', 'initialiser', ['seed', 'default', 'xavier']).default(DEFAULTS.init))
    .addOption(choiceOption('--shuffle <order>', "example order (torch: the seed script's DataLoader's; seeded: convtorch's own)", ['torch', 'seeded']).default(DEFAULTS.shuffle))
    .addOption(choiceOption('--optimizer <kind>', 'optimizer', OPTIMIZER_KINDS).default(DEFAULTS.optimizer.kind))
    .addOption(numberOption('--momentum <x>', 'SGD momentum', (n) => n >= 0 && n < 1, 'a number in [0, 1)').default(0))
    .option('--nesterov', 'Nesterov momentum (SGD)')
    .addOption(numberOption('--weight-decay <x>', 'L2 penalty (SGD, Adam) or decoupled decay (AdamW)', (n) => n >= 0, 'a number >= 0').default(0, '0; 0.01 with adamW'))
    .addOption(new Option('--schedule <s>', 'constant | step:stepSize=N,gamma=X | exponential:gamma=X | cosine[:minLr=X] | oneCycle:maxLr=X[,pctStart=X]; add per=step to apply it per step').argParser(parseSchedule).default(DEFAULTS.schedule, 'constant'))
    .addOption(new Option('--augment <list>', 'on-device augmentation of every training batch, e.g. crop=4,flip,rotate=10,scale=0.1,translate=0.1 (default: none)').argParser(parseAugment))
    .addOption(new Option('--normalise <n>', "auto (each channel's mean and std on the training set) | MEAN,STD (default: pixels in [0, 1])").argParser(parseNormalise))
    .option('--out <dir>', `the run directory (default: a new runs/<date>_<time>, linked from runs/${LATEST}; with --resume, the resumed run's)`)
    .option('--resume <dir>', 'continue the run in DIR (or a checkpoint directory) from its last checkpoint to --epochs in total; other options are the run\'s own')
    .addOption(integerOption('--early-stopping <n>', 'stop when the monitored metric has not improved for N epochs, then restore the best weights', 0))
    .addOption(choiceOption('--monitor <metric>', 'with --early-stopping: the metric', MONITORS).default('testLoss', 'validationLoss with a validation set, else testLoss'))
    .addOption(new Option('--cache-dir <dir>', 'download cache for --data URL and decoded image folders').default(defaultCacheDir()))
    .option('--tensorboard <dir>', 'TensorBoard event files in DIR (scalars per batch and epoch, the confusion matrix image)')
    .option('--no-report', 'no report.html and PNGs in the run directory (written by default)')
    .option('--cuda-graph', 'on CUDA: capture each training step in a CUDA graph and replay it per batch')
    .option('--quiet', 'only the final lines (total time, test accuracy, checkpoint)')
    .option('--json', 'one JSON object per event on stdout, nothing else')
    .addOption(integerOption('--nproc-per-node <n>', 'data-parallel: start N ranks here (Gloo on the CPU, NCCL on CUDA), the CPU threads split between them; or run under torchrun, whose RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are read', 1))
    .addOption(numberOption('--dist-timeout <s>', 'data-parallel: seconds to wait for the other ranks before failing (default 300)', (n) => n > 0, 'a number of seconds > 0'))
    .addOption(numberOption('--bucket-cap-mb <mb>', "data-parallel: MiB per gradient bucket, each sent while the backward pass goes on (DDP's bucket_cap_mb, default 25)", (n) => n > 0, 'a number of MiB > 0'))
    .addHelpText('after', AFTER_HELP)
}

type TrainFlags = ReturnType<ReturnType<typeof defineTrain>['opts']>

async function runTrain(given: Partial<TrainFlags>): Promise<number> {
  const resuming = given.resume !== undefined
  if (given.json && given.quiet) throw new UsageError('--quiet and --json exclude each other (--json already prints only JSON)')
  if (given.monitor !== undefined && given.earlyStopping === undefined) throw new UsageError('--monitor applies to --early-stopping N, which is missing')
  const distributed = distributedFromEnv(process.env)
  // Only rank 0 prints and writes (its run directory, its TensorBoard files); the others train.
  const lead = (distributed?.rank ?? 0) === 0
  const reporter = lead ? chooseReporter({ json: given.json ?? false, quiet: given.quiet ?? false }) : silentReporter()
  const halt = () => (reporter as { halt?: () => void }).halt?.()
  const reserved = given.out === undefined && !resuming && lead ? await newRunDirectory(RUNS_DIR) : undefined
  const callbacks = [
    reporter,
    ...(reserved ? [latestLink(RUNS_DIR, reserved, (from, to) => process.stderr.write(`convtorch: moved the old ${from}/ to ${to}/; ${from} now links to the newest run\n`))] : []),
    ...(given.earlyStopping === undefined ? [] : [earlyStopping({ patience: given.earlyStopping, monitor: given.monitor, restoreBest: true })]),
    ...(given.tensorboard === undefined || !lead ? [] : [tensorboard({ dir: given.tensorboard })]),
  ]
  const controller = new AbortController()
  let interrupts = 0
  let signalCode = 130
  // Before training starts (reading, decoding, downloading data) there is nothing to save, and
  // a read blocked on a FIFO or a stalled disk would never reach the abort check.
  let training = false
  const trainingStarted: Callback = { onTrainBegin: () => void (training = true) }
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++
    signalCode = 128 + (osConstants.signals[signal] ?? 2)
    halt() // the bar goes before the message, so the terminal is left with clean lines
    if (!training) {
      process.stderr.write(`\nconvtorch: ${signal} before training started; nothing to save, exiting\n`)
      process.exit(signalCode)
    }
    if (interrupts > 1) process.exit(signalCode)
    process.stderr.write(`\nconvtorch: ${signal}: stopping after the current batches and saving a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit at once)\n`)
    controller.abort()
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  try {
    await train({
      epochs: given.epochs,
      batchSize: given.batchSize,
      seed: given.seed,
      device: given.device,
      data: given.data,
      model: modelArgument(given.model),
      init: given.init,
      shuffle: given.shuffle,
      optimizer: optimizerFromFlags(given, resuming),
      schedule: given.schedule,
      augment: given.augment ?? undefined,
      normalise: given.normalise,
      validationSplit: given.validationSplit,
      imageFolder: imageFolderFromFlags(given),
      out: given.out ?? reserved,
      resume: given.resume,
      cacheDir: given.cacheDir,
      report: given.report === false ? false : undefined,
      cudaGraph: given.cudaGraph,
      signal: controller.signal,
      callbacks: [trainingStarted, ...callbacks],
      distributed: distributed ? { ...distributed, timeoutSeconds: given.distTimeout ?? distributed.timeoutSeconds, bucketCapMb: given.bucketCapMb } : undefined,
    })
    return 0
  } catch (error) {
    if (error instanceof TrainingAbortedError) {
      process.stderr.write(`convtorch: ${error.message}\n`)
      if (given.json) process.stdout.write(`${JSON.stringify({ event: 'aborted', message: error.message, checkpoint: error.checkpoint, history: error.history })}\n`)
      return signalCode
    }
    throw error
  } finally {
    halt()
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
    if (reserved) await removeIfEmpty(reserved)
  }
}

export function trainCommand(program: Command): void {
  const command = defineTrain(program)
  command.action(async (options) => {
    const given = explicitOptions(command, options)
    if (given.nprocPerNode !== undefined) {
      const already = distributedFromEnv(process.env)
      if (already) throw new UsageError(`--nproc-per-node: this process is already rank ${already.rank} of ${already.worldSize} ($RANK and $WORLD_SIZE are set, as torchrun sets them); leave the flag out under torchrun`)
      process.exitCode = await launchRanks(given.nprocPerNode, process.argv.slice(2))
      return
    }
    process.exitCode = await runTrain(given)
  })
}
