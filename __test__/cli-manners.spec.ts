import test from 'ava'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(__dirname, '..', '..')
const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const convtorch = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 })
const COMMANDS = ['train', 'eval', 'predict', 'export', 'serve', 'inspect', 'report', 'summary', 'doctor', 'setup-torch']

test('convtorch --version prints the package version', (t) => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  for (const flag of ['--version', '-V']) {
    const run = convtorch([flag])
    t.is(run.status, 0)
    t.is(run.stdout, `${version}\n`)
  }
})

test('every command has --help, and train lists its defaults', (t) => {
  const overview = convtorch(['--help'])
  t.is(overview.status, 0)
  for (const name of COMMANDS) {
    t.regex(overview.stdout, new RegExp(`^  ${name} `, 'm'), `${name} in the overview`)
    const help = convtorch([name, '--help'])
    t.is(help.status, 0, `${name} --help`)
    t.regex(help.stdout, new RegExp(`^Usage: convtorch ${name} `))
  }
  const train = convtorch(['help', 'train']).stdout
  for (const [flag, value] of [['--epochs <n>', '10'], ['--batch-size <n>', '128'], ['--seed <n>', '1'], ['--init <name>', '"seed"'], ['--optimizer <kind>', '"sgd"']]) {
    t.regex(train, new RegExp(`${flag.replace(/[<>]/g, '.')}[\\s\\S]*?\\(default: ${value}`), `${flag} shows its default ${value}`)
  }
  t.regex(train, /--lr <x>[\s\S]*?default: 0\.05 with sgd, 0\.001 with adam\s+and adamW/)
})

test('without a command, convtorch prints its help and exits 2', (t) => {
  const run = convtorch([])
  t.is(run.status, 2)
  t.regex(run.stderr, /^Usage: convtorch \[options\] \[command\]/)
})

test('a mistyped command or flag gets a suggestion and a pointer to --help, with exit code 2', (t) => {
  const command = convtorch(['trian'])
  t.is(command.status, 2)
  t.is(command.stderr, "convtorch: unknown command 'trian' (did you mean train?)\nRun `convtorch --help` for the commands.\n")
  const flag = convtorch(['train', '--epoch', '1'])
  t.is(flag.status, 2)
  t.is(flag.stderr, "convtorch train: unknown option '--epoch' (did you mean --epochs?)\nRun `convtorch train --help` for its options and their defaults.\n")
  const choice = convtorch(['train', '--optimizer', 'adamw'])
  t.is(choice.status, 2)
  t.is(choice.stderr, "convtorch train: --optimizer must be one of sgd, adam, adamW, got 'adamw' (did you mean adamW?)\n")
})

test('each error message carries one convtorch prefix', (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['train', '--batch-size', '0'], /^convtorch train: --batch-size must be an integer >= 1, got '0'\n$/],
    [['train', '--device', 'gpu'], /^convtorch train: --device must be auto, cpu, cuda or cuda:N, got 'gpu' \(did you mean cuda\?\)\n$/],
    [['train', '--quiet', '--json'], /^convtorch train: --quiet and --json exclude each other/],
    [['eval'], /^convtorch eval: --model is required/],
    [['export', '--model', 'x', '--out', 'model.txt'], /^convtorch export: --out must name a \.py file/],
    // A spec that cannot be read is a ModelSpecError: a failure (1), not a usage error.
    [['summary', '--model', 'no-such-spec.json'], /^convtorch: --model 'no-such-spec\.json' is neither a preset/],
  ]
  for (const [args, expected] of cases) {
    const run = convtorch(args)
    t.is(run.status, args[0] === 'summary' ? 1 : 2, `${args.join(' ')}: ${run.stderr}`)
    t.regex(run.stderr, expected)
    t.is(run.stderr.match(/convtorch[ :]/g)?.length, 1, `one prefix: ${run.stderr}`)
  }
})
