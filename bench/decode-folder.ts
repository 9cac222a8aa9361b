// Decode throughput of an image folder: ~2000 small JPEGs (drawn shapes), decoded cold (cache
// off) at several in-flight limits, the header pass alone, then a cached load. Prints JSON.
// Run: npx tsc -p tsconfig.json && node dist/bench/decode-folder.js [--per-class 667] [--size 32]
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { listImageFiles, loadImageFolder, probeImage } from '../src/index'
import { forEachBounded } from '../src/data/bounded'
import { writeShapes } from '../__test__/helpers/shapes-dataset'

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e9
}

async function main() {
  const { values } = parseArgs({ options: { 'per-class': { type: 'string', default: '667' }, size: { type: 'string', default: '32' } } })
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
      torchvision: 'not measured: torchvision is not installed in the torch environment',
    }
    console.log(JSON.stringify(report, null, 2))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
