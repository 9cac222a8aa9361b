#!/usr/bin/env node
// convtorch command line: train, eval, predict, export, serve, report, summary, doctor, setup-torch.
import { ConvtorchError } from '../errors'
import { doctorCommand } from './doctor-command'
import { evalCommand } from './eval-command'
import { exportCommand } from './export-command'
import { inspectCommand } from './inspect-command'
import { predictCommand } from './predict-command'
import { reportCommand } from './report-command'
import { serveCommand } from './serve-command'
import { setupTorchCommand } from './setup-torch-command'
import { summaryCommand } from './summary-command'
import { TRAIN_HELP, trainCommand } from './train-command'

const HELP = `Usage: convtorch <command> [options]

Commands:
  train     train a ConvNet (the seed tutorial's by default) on MNIST or IDX data; --resume
  eval      loss, accuracy, confusion matrix and per-class metrics of a trained model
  predict   the classes of image files (PNG, JPEG, WebP) by a trained model
  export    a trained model as PyTorch source and weights, or as ONNX
  serve     a page to draw a digit on and see the model's prediction, run in the browser
  inspect   what a model sees in an image: filters, feature maps, Grad-CAM
  report    rebuild a run directory's report.html and PNGs from its files
  summary   print each layer's output shape and parameter count
  doctor    report libtorch, CUDA devices and threads
  setup-torch [--light]  install torch 2.11.0 from PyPI for convtorch (into its .torch/venv)

${TRAIN_HELP}`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'train':
      return trainCommand(rest)
    case 'eval':
      return evalCommand(rest)
    case 'predict':
      return predictCommand(rest)
    case 'export':
      return exportCommand(rest)
    case 'serve':
      return serveCommand(rest)
    case 'inspect':
      return inspectCommand(rest)
    case 'report':
      return reportCommand(rest)
    case 'summary':
      return summaryCommand(rest)
    case 'doctor':
      return doctorCommand(rest)
    case 'setup-torch':
      return setupTorchCommand(rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`convtorch: unknown command '${command}'; expected train, eval, predict, export, serve, inspect, report, summary, doctor or setup-torch\n`)
      return 2
  }
}

// `convtorch train | head` closes stdout early: that ends the output, it is not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    // Typed errors already say what was wrong and what was expected: print only that.
    if (error instanceof ConvtorchError) {
      process.stderr.write(`convtorch: ${error.message}\n`)
      process.exitCode = error.code === 'CONVTORCH_INVALID_ARGUMENT' ? 2 : 1
    } else if (error instanceof Error && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`convtorch: ${error.message}\n`)
      process.exitCode = 2
    } else {
      process.stderr.write(`convtorch: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exitCode = 1
    }
  },
)
