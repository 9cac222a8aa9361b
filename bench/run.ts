// `npm run bench`: one network trained by several contenders side by side, in one run, on one
// machine. The seed net (default): A, the seed's script as written; B, the best plain eager
// PyTorch loop; B', B under torch.compile; C, convtorch; D, C with on-device augmentation.
// `--net cifar`: a CIFAR-sized RGB ConvNet on synthetic data (the same tensors for all), B, B'
// and C. Reports per contender the median and spread of its epochs (training alone, and a
// seed epoch with the per-epoch train-set accuracy), peak RSS, and the ratios the targets of
// issue #14 name, with the CPU and its load average.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { bundledMnistDir, MNIST_FILES } from '../src/index'
import { writeSyntheticCifar } from './cifar-net'
import { loadAverage, machineInfo } from './machine'
import { spread, type Spread } from './statistics'
import { ensureTorchvision } from './torchvision'

interface EpochTiming {
  train: number
  seed: number
  trainAccuracy: number | null
}

interface ContenderReport {
  contender: string
  device: string
  threads: number | null
  torch: string
  epochs: EpochTiming[]
  testAccuracy: number
  peakRssMB: number
  compileSeconds?: number | null
}

const root = join(__dirname, '..', '..')
const LETTERS = ['A', 'B', "B'", 'C', 'D'] as const
type Letter = (typeof LETTERS)[number]

/** torchvision's MNIST layout (root/MNIST/raw/<files>) pointing at the bundled IDX files. */
function torchvisionRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'convtorch-bench-'))
  mkdirSync(join(dir, 'MNIST', 'raw'), { recursive: true })
  for (const name of Object.values(MNIST_FILES)) symlinkSync(join(bundledMnistDir(), name), join(dir, 'MNIST', 'raw', name))
  return dir
}

function run(command: string, args: string[]): ContenderReport {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], cwd: join(root, 'bench'), maxBuffer: 64 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`)
  const lines = result.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as ContenderReport
}

interface Summary {
  letter: Letter
  contender: string
  device: string
  rounds: number
  epochsPerRound: number
  train: Spread
  seed: Spread
  totalSeedSecondsPerRound: number
  compileSeconds: Spread | null
  testAccuracy: number
  peakRssMB: number
  raw: ContenderReport[]
}

function summarise(letter: Letter, runs: ContenderReport[]): Summary {
  const epochs = runs.flatMap((r) => r.epochs)
  const compile = runs.map((r) => r.compileSeconds).filter((s): s is number => typeof s === 'number')
  return {
    letter,
    contender: runs[0].contender,
    device: runs[0].device,
    rounds: runs.length,
    epochsPerRound: runs[0].epochs.length,
    train: spread(epochs.map((e) => e.train)),
    seed: spread(epochs.map((e) => e.seed)),
    totalSeedSecondsPerRound: epochs.reduce((sum, e) => sum + e.seed, 0) / runs.length,
    compileSeconds: compile.length ? spread(compile) : null,
    testAccuracy: runs[0].testAccuracy,
    peakRssMB: Math.round(Math.max(...runs.map((r) => r.peakRssMB))),
    raw: runs,
  }
}

interface Target {
  what: string
  value: number | null
  atMost: number
  met: boolean | null
}

function ratios(by: Partial<Record<Letter, Summary>>) {
  // null where a contender is missing or the ratio is undefined (a spread of 0 from one epoch).
  const finite = (value: number) => (Number.isFinite(value) ? value : null)
  const of = (a: Letter, b: Letter, pick: (s: Summary) => number) => (by[a] && by[b] ? finite(pick(by[a]!) / pick(by[b]!)) : null)
  const train = (s: Summary) => s.train.median
  const seed = (s: Summary) => s.seed.median
  const bestB = [by.B, by["B'"]].filter((s): s is Summary => !!s).sort((x, y) => train(x) - train(y))[0]
  return {
    trainEpochCOverA: of('C', 'A', train),
    trainEpochCOverB: of('C', 'B', train),
    trainEpochCOverBPrime: of('C', "B'", train),
    trainEpochCOverBestB: by.C && bestB ? train(by.C) / train(bestB) : null,
    trainEpochBPrimeOverB: of("B'", 'B', train),
    seedEpochCOverA: of('C', 'A', seed),
    seedEpochCOverB: of('C', 'B', seed),
    seedTotalCOverA: of('C', 'A', (s) => s.totalSeedSecondsPerRound),
    relativeTrainSpreadCOverB: of('C', 'B', (s) => s.train.relative),
    absoluteTrainSpreadCOverB: of('C', 'B', (s) => s.train.max - s.train.min),
    peakRssCOverB: of('C', 'B', (s) => s.peakRssMB),
    trainEpochAugmentedOverPlain: of('D', 'C', train),
  }
}

/** Issue #14's targets for this network, each with its measured value. */
function targets(net: string, r: ReturnType<typeof ratios>): Target[] {
  const target = (what: string, value: number | null, atMost: number): Target => ({ what, value, atMost, met: value === null ? null : value <= atMost })
  const common = [target('relative spread of C train epochs / B', r.relativeTrainSpreadCOverB, 1), target('peak RSS C / B', r.peakRssCOverB, 1)]
  if (net === 'cifar') return [target('train epoch C / best(B, B\')', r.trainEpochCOverBestB, 0.8), ...common]
  return [
    target('train epoch C / B', r.trainEpochCOverB, 0.5),
    target('train epoch C / best(B, B\')', r.trainEpochCOverBestB, 1),
    target('seed epoch C / B', r.seedEpochCOverB, 0.35),
    ...common,
  ]
}

function main(): void {
  const { values } = parseArgs({
    options: {
      net: { type: 'string', default: 'seed' },
      epochs: { type: 'string', default: '3' },
      device: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '0' },
      contenders: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      examples: { type: 'string', default: '5120' },
      out: { type: 'string' },
      augment: { type: 'string', default: 'crop=2,rotate=10,scale=0.1,translate=0.1' },
    },
  })
  const python = process.env.CONVTORCH_PYTHON
  if (!python) throw new Error('CONVTORCH_PYTHON is not set: run through `npm run bench`')
  const net = values.net!
  if (net !== 'seed' && net !== 'cifar') throw new Error(`--net must be 'seed' or 'cifar', got '${net}'`)
  const allowed: readonly Letter[] = net === 'seed' ? LETTERS : ['B', "B'", 'C']
  const wanted = new Set((values.contenders ?? (net === 'seed' ? "A,B,B',C" : "B,B',C")).split(','))
  for (const letter of wanted) if (!allowed.includes(letter as Letter)) throw new Error(`contender '${letter}' is not one of ${allowed.join(', ')} for --net ${net}`)
  const data = net === 'seed' ? torchvisionRoot() : mkdtempSync(join(tmpdir(), 'convtorch-bench-cifar-'))
  if (net === 'cifar') writeSyntheticCifar(data, Number(values.examples))
  const skipped: Record<string, string> = {}
  if (wanted.has('A')) {
    const missing = ensureTorchvision(python)
    if (missing) {
      skipped.A = missing
      wanted.delete('A')
    }
  }
  const common = ['--epochs', values.epochs!, '--device', values.device!, '--threads', values.threads!, '--net', net, '--data', data]
  const contender = join(root, 'dist', 'bench', 'convtorch-contender.js')
  const commands: Record<Letter, [string, string[]]> = {
    A: [python, ['pytorch_seed_script.py', ...common]],
    B: [python, ['pytorch_eager.py', ...common]],
    "B'": [python, ['pytorch_eager.py', ...common, '--compile', '1']],
    C: [process.execPath, [contender, ...common]],
    D: [process.execPath, [contender, ...common, '--augment', values.augment!]],
  }
  // Rounds alternate the contenders (A B B' C A B B' C ...), so a slow spell of a shared
  // machine lands on all of them; each contender's epochs are pooled over its rounds.
  const machine = { ...machineInfo(), loadAverageBefore: loadAverage(), loadAverageAfterRound: [] as [number, number, number][] }
  const reports = new Map<Letter, ContenderReport[]>()
  const rounds = Math.max(1, Number(values.rounds))
  for (let round = 0; round < rounds; round++) {
    for (const letter of LETTERS.filter((l) => wanted.has(l))) {
      const [command, args] = commands[letter]
      reports.set(letter, [...(reports.get(letter) ?? []), run(command, args)])
    }
    machine.loadAverageAfterRound.push(loadAverage())
  }
  const summaries = [...reports.entries()].map(([letter, runs]) => summarise(letter, runs))
  const by = Object.fromEntries(summaries.map((s) => [s.letter, s])) as Partial<Record<Letter, Summary>>
  const measured = ratios(by)
  const goals = targets(net, measured)
  const result = { date: new Date().toISOString(), net, device: values.device, threads: Number(values.threads) || null, epochs: Number(values.epochs), rounds, examples: net === 'cifar' ? Number(values.examples) : 60000, machine, contenders: summaries, ratios: measured, targets: goals, skipped }
  const name = net === 'seed' ? `bench-${values.device!.replace(':', '')}-${values.epochs}ep.json` : `bench-cifar-${values.device!.replace(':', '')}-${values.epochs}ep.json`
  const out = values.out ?? join(root, 'bench', 'results', name)
  mkdirSync(join(out, '..'), { recursive: true })
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
  const range = (s: Spread) => `${s.median.toFixed(2)} s (${s.min.toFixed(2)}-${s.max.toFixed(2)})`
  for (const s of summaries) {
    const compile = s.compileSeconds ? ` | compile ${s.compileSeconds.median.toFixed(1)} s` : ''
    process.stdout.write(`${s.contender.padEnd(30)} train/epoch ${range(s.train)} | seed epoch ${range(s.seed)} | test ${(s.testAccuracy * 100).toFixed(2)}% | peak RSS ${s.peakRssMB} MB${compile}\n`)
  }
  for (const [key, value] of Object.entries(measured)) if (value !== null) process.stdout.write(`${key.padEnd(30)} ${value.toFixed(3)}\n`)
  for (const t of goals) if (t.value !== null) process.stdout.write(`target ${t.what}: ${t.value.toFixed(3)} <= ${t.atMost} ${t.met ? 'met' : 'NOT met'}\n`)
  for (const [letter, reason] of Object.entries(skipped)) process.stdout.write(`contender ${letter} skipped: ${reason}\n`)
  process.stdout.write(`machine: ${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfterRound.at(-1)!.join(' ')} after\n`)
  process.stdout.write(`results: ${out}\n`)
}

main()
