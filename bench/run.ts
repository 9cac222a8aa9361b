// `npm run bench`: the seed job side by side with PyTorch in one run, on one machine.
// A: the seed's script as written; B: the best plain eager PyTorch loop; C: convtorch; D: C with
// on-device augmentation (what augmentation costs).
// Reports median seconds per epoch (training alone, and a full seed epoch with the per-epoch
// train-set accuracy), totals, test accuracy, peak RSS and the ratios C/A and C/B.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { bundledMnistDir, MNIST_FILES } from '../src/index'
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
}

const root = join(__dirname, '..', '..')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

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

function summarise(report: ContenderReport, rounds: number) {
  return {
    rounds,
    contender: report.contender,
    device: report.device,
    medianTrainEpochSeconds: median(report.epochs.map((e) => e.train)),
    medianSeedEpochSeconds: median(report.epochs.map((e) => e.seed)),
    totalSeedSeconds: report.epochs.reduce((sum, e) => sum + e.seed, 0) / rounds,
    epochs: report.epochs.length / rounds,
    testAccuracy: report.testAccuracy,
    peakRssMB: Math.round(report.peakRssMB),
    raw: report,
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string', default: '3' },
      device: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '0' },
      contenders: { type: 'string', default: 'A,B,C' },
      rounds: { type: 'string', default: '1' },
      out: { type: 'string' },
      augment: { type: 'string', default: 'crop=2,rotate=10,scale=0.1,translate=0.1' },
    },
  })
  const python = process.env.CONVTORCH_PYTHON
  if (!python) throw new Error('CONVTORCH_PYTHON is not set: run through `npm run bench`')
  const common = ['--epochs', values.epochs!, '--device', values.device!, '--threads', values.threads!]
  const data = torchvisionRoot()
  const wanted = new Set(values.contenders!.split(','))
  const skipped: Record<string, string> = {}
  if (wanted.has('A')) {
    const missing = ensureTorchvision(python)
    if (missing) {
      skipped.A = missing
      wanted.delete('A')
    }
  }
  const commands: Record<string, [string, string[]]> = {
    A: [python, ['pytorch_seed_script.py', ...common, '--data', data]],
    B: [python, ['pytorch_eager.py', ...common, '--data', data]],
    C: [process.execPath, [join(root, 'dist', 'bench', 'convtorch-contender.js'), ...common]],
    D: [process.execPath, [join(root, 'dist', 'bench', 'convtorch-contender.js'), ...common, '--augment', values.augment!]],
  }
  // Rounds alternate the contenders (A B C A B C ...), so a slow spell of a shared machine
  // lands on all of them; each contender's epochs are pooled over its rounds.
  const reports = new Map<string, ContenderReport[]>()
  for (let round = 0; round < Math.max(1, Number(values.rounds)); round++) {
    for (const letter of ['A', 'B', 'C', 'D'].filter((l) => wanted.has(l))) {
      const [command, args] = commands[letter]
      reports.set(letter, [...(reports.get(letter) ?? []), run(command, args)])
    }
  }
  const summaries = [...reports.values()].map((runs) => summarise({ ...runs[0], epochs: runs.flatMap((r) => r.epochs), testAccuracy: runs[0].testAccuracy, peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)) }, runs.length))

  const byLetter = Object.fromEntries(summaries.map((s) => [s.contender.startsWith('C+aug') ? 'D' : s.contender[0], s]))
  const ratio = (a: string, b: string, key: 'medianTrainEpochSeconds' | 'medianSeedEpochSeconds' | 'totalSeedSeconds' | 'peakRssMB') =>
    byLetter[a] && byLetter[b] ? byLetter[a][key] / byLetter[b][key] : null
  const ratios = {
    trainEpochCOverA: ratio('C', 'A', 'medianTrainEpochSeconds'),
    trainEpochCOverB: ratio('C', 'B', 'medianTrainEpochSeconds'),
    seedEpochCOverA: ratio('C', 'A', 'medianSeedEpochSeconds'),
    seedEpochCOverB: ratio('C', 'B', 'medianSeedEpochSeconds'),
    seedTotalCOverA: ratio('C', 'A', 'totalSeedSeconds'),
    peakRssCOverB: ratio('C', 'B', 'peakRssMB'),
    trainEpochAugmentedOverPlain: ratio('D', 'C', 'medianTrainEpochSeconds'),
  }
  const result = { date: new Date().toISOString(), device: values.device, threads: Number(values.threads) || null, epochs: Number(values.epochs), rounds: Number(values.rounds), contenders: summaries, ratios, skipped }
  const out = values.out ?? join(root, 'bench', 'results', `bench-${values.device!.replace(':', '')}-${values.epochs}ep.json`)
  mkdirSync(join(out, '..'), { recursive: true })
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
  for (const s of summaries) {
    process.stdout.write(`${s.contender.padEnd(16)} train/epoch ${s.medianTrainEpochSeconds.toFixed(2)} s | seed epoch ${s.medianSeedEpochSeconds.toFixed(2)} s | ${s.epochs} epochs ${s.totalSeedSeconds.toFixed(1)} s | test ${(s.testAccuracy * 100).toFixed(2)}% | peak RSS ${s.peakRssMB} MB\n`)
  }
  for (const [name, value] of Object.entries(ratios)) if (value !== null) process.stdout.write(`${name.padEnd(18)} ${value.toFixed(3)}\n`)
  for (const [letter, reason] of Object.entries(skipped)) process.stdout.write(`contender ${letter} skipped: ${reason}\n`)
  process.stdout.write(`results: ${out}\n`)
}

main()
