// Decode throughput of an image folder: ~2000 small JPEGs (drawn shapes), decoded cold (cache
// off) at several in-flight limits, the header pass alone, a cached load, and, alternating with
// convtorch over `--rounds`, torchvision's ImageFolder + DataLoader(num_workers=2) on the same
// folder. Prints JSON and writes it to bench/results/decode-folder.json.
// Run: npm run bench:decode -- [--per-class 667] [--size 32] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { listImageFiles, loadImageFolder, probeImage } from '../src/index'
import { forEachBounded } from '../src/data/bounded'
import { writeShapes } from '../__test__/helpers/shapes-dataset'
import { ensureTorchvision } from './torchvision'

const root = join(__dirname, '..', '..')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** torchvision's images/s on `folder`, or why it could not be measured. */
function torchvisionRate(folder: string): number | string {
  const python = process.env.CONVTORCH_PYTHON
  if (!python) return 'CONVTORCH_PYTHON is not set (run through npm run bench:decode)'
  const missing = ensureTorchvision(python)
  if (missing) return missing
  const run = spawnSync(python, [join(root, 'bench', 'torchvision_folder.py'), folder], { encoding: 'utf8' })
  if (run.status !== 0) return `torchvision_folder.py failed: ${run.stderr.trim().split('\n').pop()}`
  const { images, seconds } = JSON.parse(run.stdout) as { images: number; seconds: number }
  return images / seconds
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e9
}

async function main() {
  const { values } = parseArgs({ options: { 'per-class': { type: 'string', default: '667' }, size: { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' } } })
  const perClass = Number(values['per-class'])
  const size = Number(values.size)
  const dir = mkdtempSync(join(tmpdir(), 'convtorch-decode-bench-'))
  const cacheDir = join(dir, 'cache')
  try {
    const images = await writeShapes({ dir: join(dir, 'folder'), perClass: { train: perClass }, layout: 'classes', size, format: 'jpeg' })
    const count = images.length
    const folder = join(dir, 'folder')
    const files = (await Promise.all(['circle', 'square', 'triangle'].map((c) => listImageFiles(join(folder, c))))).flat()
    const headers = await seconds(() => forEachBounded(files, availableParallelism() * 2, async (file) => void (await probeImage(file))))
    const cold: Record<string, number> = {}
    for (const concurrency of [1, 4, availableParallelism() * 2, 16]) {
      const s = await seconds(() => loadImageFolder(folder, { cache: false, concurrency }))
      cold[`concurrency ${concurrency}`] = Math.round(count / s)
    }
    // Alternating rounds: a slow minute of a shared machine lands on both sides.
    const ours: number[] = []
    const theirs: number[] = []
    let torchvisionProblem: string | null = null
    for (let round = 0; round < Number(values.rounds); round++) {
      ours.push(count / (await seconds(() => loadImageFolder(folder, { cache: false }))))
      const rate = torchvisionRate(folder)
      if (typeof rate === 'string') torchvisionProblem = rate
      else theirs.push(rate)
    }
    const firstCached = await seconds(() => loadImageFolder(folder, { cacheDir }))
    const hit = await seconds(async () => {
      if (!(await loadImageFolder(folder, { cacheDir })).fromCache) throw new Error('expected a cache hit')
    })
    const report = {
      images: count,
      size: `${size}x${size} JPEG, RGB`,
      cpus: availableParallelism(),
      uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
      coldImagesPerSecond: cold,
      headerPassSeconds: Number(headers.toFixed(3)),
      decodeAndWriteCacheSeconds: Number(firstCached.toFixed(3)),
      cacheHitSeconds: Number(hit.toFixed(3)),
      alternatingRounds: {
        convtorchImagesPerSecond: Math.round(median(ours)),
        torchvisionImagesPerSecond: theirs.length ? Math.round(median(theirs)) : null,
        torchvision: torchvisionProblem ?? 'ImageFolder(ToTensor) + DataLoader(batch_size=64, num_workers=2), read once through, start-up of the workers included',
        convtorchOverTorchvision: theirs.length ? Number((median(ours) / median(theirs)).toFixed(2)) : null,
      },
    }
    console.log(JSON.stringify(report, null, 2))
    mkdirSync(join(root, 'bench', 'results'), { recursive: true })
    writeFileSync(join(root, 'bench', 'results', 'decode-folder.json'), `${JSON.stringify(report, null, 2)}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
