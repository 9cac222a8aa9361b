// While one model trains, the main thread does not wait on its chunk: quick calls on other
// models run beside it, calls on the training model are refused as busy at once, and the
// asynchronous calls do not park libuv's worker threads (which fs and DNS need).
// Serial: trainStep() draws from the default generators a running chunk has installed, so it
// waits for the compute thread; and the chunks of one test would slow the others.
import test from 'ava'
import { readFile } from 'node:fs/promises'
import { BusyError, Model } from '../src/index'
import { mnist } from './helpers/mnist'

/** A chunk long enough that everything the test does happens while it runs. */
const CHUNK_BATCHES = 400

async function trainingSet() {
  const { train } = await mnist()
  return train.slice(0, 6_400).toDevice('cpu')
}

function longOrder(count: number): Uint32Array {
  return Uint32Array.from({ length: CHUNK_BATCHES * 64 }, (_, i) => i % count)
}

/** Whether the native side still holds the model for its asynchronous job (not the TS flag). */
function nativelyBusy(model: Model): boolean {
  try {
    ;(model as unknown as { handle: { parameterNames(): string[] } }).handle.parameterNames()
    return false
  } catch (error) {
    if ((error as Error).message.startsWith('CONVTORCH_BUSY')) return true
    throw error
  }
}

test.serial('quick calls on another model run while a training chunk runs, and the training model refuses them as busy', async (t) => {
  const data = await trainingSet()
  const training = Model.create({ device: 'cpu' })
  const other = Model.create({ device: 'cpu', seed: 2 })
  const images = new Float32Array(16 * 784).fill(0.5)
  const chunk = training.trainBatches(data, longOrder(data.count), 64)

  // Each of these would have waited for the whole chunk before: they all return while it runs.
  const created = Model.create({ device: 'cpu', seed: 2 })
  t.deepEqual(created.parameter('conv_1.weight').values, other.parameter('conv_1.weight').values, 'created beside the chunk, from its own seed alone')
  created.dispose()
  t.is(other.predict(images).labels.length, 16)
  t.deepEqual(other.parameterNames(), ['conv_1.weight', 'conv_1.bias', 'conv_2.weight', 'conv_2.bias', 'linear_1.weight', 'linear_1.bias'])
  t.is(other.parameter('conv_1.weight').values.length, 72)
  const error = t.throws(() => training.parameterNames(), { instanceOf: BusyError })
  t.regex(error!.message, /^parameterNames\(\): the model is busy with trainBatches\(\); await it before calling parameterNames\(\)/)
  t.throws(() => training.dispose(), { instanceOf: BusyError })
  t.true(nativelyBusy(training), 'the chunk was still running after the other calls returned: they did not wait for it')
  // The native refusal is real too, not only the TypeScript flag.
  t.throws(() => (training as unknown as { handle: { dispose(): void } }).handle.dispose(), { message: /^CONVTORCH_BUSY/ })

  const losses = await chunk
  t.is(losses.length, CHUNK_BATCHES)
  t.true(losses.every(Number.isFinite))
  t.false(nativelyBusy(training), 'the reservation ends with the chunk')
  t.is(training.parameterNames().length, 6)
  other.dispose()
  training.dispose()
  data.dispose()
})

test.serial("queued training chunks do not occupy libuv's thread pool: a file read finishes while they wait", async (t) => {
  const data = await trainingSet()
  // More chunks than libuv has workers (4): with one parked worker per chunk, the read would
  // wait for at least three chunks to finish.
  const models = Array.from({ length: 6 }, (_, i) => Model.create({ device: 'cpu', seed: i + 1 }))
  let settled = 0
  const chunks = models.map((m) => m.trainBatches(data, longOrder(data.count).subarray(0, 64 * 200), 64).then((l) => ((settled += 1), l)))
  const text = await readFile(__filename, 'utf8')
  t.true(text.length > 0)
  t.is(settled, 0, 'the read finished before the first chunk did')
  const all = await Promise.all(chunks)
  t.true(all.every((l) => l.length === 200))
  for (const m of models) m.dispose()
  data.dispose()
})

test.serial('the model stays usable after an asynchronous call fails', async (t) => {
  const data = await trainingSet()
  const model = Model.create({ device: 'cpu' })
  await t.throwsAsync(model.trainBatches(data, Uint32Array.of(data.count + 5), 1), { message: /order|index/ })
  t.false(nativelyBusy(model))
  const losses = await model.trainBatches(data, Uint32Array.of(0, 1, 2, 3), 2)
  t.is(losses.length, 2)
  model.dispose()
  data.dispose()
})
