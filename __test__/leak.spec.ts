import test from 'ava'
import { Model } from '../src/index'
import { mnist } from './helpers/mnist'

const MiB = 1024 * 1024

test('after a burn-in, more training does not grow the process memory', async (t) => {
  const { train } = await mnist()
  const data = train.slice(0, 12_800).toDevice('cpu')
  const model = Model.create({ device: 'cpu' })
  const order = Uint32Array.from({ length: 12_800 }, (_, i) => i)
  await model.trainBatches(data, order, 128)
  await model.evaluate(data)
  const afterBurnIn = process.memoryUsage().rss
  for (let round = 0; round < 6; round++) {
    await model.trainBatches(data, order, 128)
    await model.evaluate(data)
  }
  const growth = (process.memoryUsage().rss - afterBurnIn) / MiB
  t.log(`RSS after burn-in ${(afterBurnIn / MiB).toFixed(0)} MiB, growth over 600 more steps and 6 evaluations ${growth.toFixed(1)} MiB`)
  // A leaked batch per step would add ~240 MiB here; the allocator's own drift stays far below 64.
  t.true(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`)
})
