// 30 epochs of the whole loop (checkpoints, history files, evaluation each epoch) on a reduced
// dataset, sampling the process's memory after every epoch: after a burn-in of two epochs it
// stays flat. The bounds: RSS within 48 MiB and the C heap within 8 MiB of epoch 2, and the
// same number of live native objects. A leaked batch of activations per step (~2.5 MB at
// batch 128) would add ~1.4 GB over these 560 steps; one per epoch ~70 MB.
import test from 'ava'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nativeMemory, train, type Callback } from '../src/index'
import { mnist } from './helpers/mnist'

const MiB = 1024 * 1024

interface Sample {
  epoch: number
  rss: number
  heap: number
  live: number
  js: number
}

test('memory is flat after epoch 2 over 30 epochs of train()', async (t) => {
  const { train: full, test: fullTest } = await mnist()
  const samples: Sample[] = []
  const sampler: Callback = {
    onEpochEnd: (end) => {
      const native = nativeMemory()
      samples.push({ epoch: end.epoch, rss: process.memoryUsage().rss, heap: native.heapBytes, live: native.liveObjects, js: process.memoryUsage().heapUsed })
    },
  }
  const out = await mkdtemp(join(tmpdir(), 'convtorch-soak-'))
  await train({ data: { train: full.slice(0, 2_560), test: fullTest.slice(0, 500) }, epochs: 30, device: 'cpu', out, report: false, callbacks: [sampler] })
  t.is(samples.length, 30)
  const base = samples[1]
  const worst = (field: 'rss' | 'heap' | 'js') => Math.max(...samples.slice(2).map((s) => s[field] - base[field])) / MiB
  t.log(`epoch 2: RSS ${(base.rss / MiB).toFixed(0)} MiB, C heap ${(base.heap / MiB).toFixed(1)} MiB, JS heap ${(base.js / MiB).toFixed(1)} MiB, ${base.live} live native objects`)
  t.log(`most growth after epoch 2: RSS ${worst('rss').toFixed(1)} MiB, C heap ${worst('heap').toFixed(2)} MiB, JS heap ${worst('js').toFixed(1)} MiB`)
  t.log(`per epoch (MiB): ${samples.map((s) => (s.rss / MiB).toFixed(0)).join(' ')}`)
  t.true(worst('rss') < 48, `RSS grew ${worst('rss').toFixed(1)} MiB`)
  t.true(worst('heap') < 8, `C heap grew ${worst('heap').toFixed(2)} MiB`)
  t.true(samples.slice(2).every((s) => s.live === base.live), `live native objects: ${samples.map((s) => s.live).join(' ')}`)
})
