import test from 'ava'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidArgumentError, Model, train, TrainingAbortedError, type BatchEnd, type Device } from '../src/index'
import { mnist } from './helpers/mnist'

async function subsets(trainCount: number, testCount: number) {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, trainCount), test: fullTest.slice(0, testCount) }
}

test('a short real training run learns MNIST', async (t) => {
  const result = await train({ data: await subsets(25_600, 2_000), epochs: 1, batchSize: 64, device: 'cpu', init: 'default', trainAccuracy: false })
  t.log(`test accuracy ${(result.test.accuracy * 100).toFixed(2)}%, loss ${result.test.loss.toFixed(4)}, ${result.timings.trainSeconds.toFixed(2)} s training`)
  t.true(result.test.accuracy > 0.8, `accuracy ${result.test.accuracy}`)
  t.is(result.test.count, 2000)
  t.is(result.test.confusionMatrix.flat().reduce((a, b) => a + b, 0), 2000)
  t.is(result.test.perClass.length, 10)
  t.true(result.timings.trainSeconds > 0)
})

test('two runs with the same seed produce identical histories', async (t) => {
  const data = await subsets(3_000, 500)
  const run = () => train({ data, epochs: 2, seed: 3, device: 'cpu', init: 'default' })
  const [a, b] = [await run(), await run()]
  const metrics = (r: Awaited<ReturnType<typeof run>>) => r.history.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.testLoss, e.testAccuracy])
  t.deepEqual(metrics(a), metrics(b))
  t.deepEqual(Array.from(a.model.parameter('linear_1.weight').values), Array.from(b.model.parameter('linear_1.weight').values))
  const other = await train({ data, epochs: 1, seed: 4, device: 'cpu', init: 'default' })
  t.notDeepEqual(metrics(other)[0], metrics(a)[0])
})

test('callbacks see every batch; the last partial batch is kept unless dropLast', async (t) => {
  const data = await subsets(1_000, 200)
  const events: string[] = []
  const batches: BatchEnd[] = []
  await train({
    data,
    epochs: 2,
    device: 'cpu',
    batchesPerCall: 3,
    callbacks: {
      onTrainBegin: (info) => void events.push(`begin ${info.batchesPerEpoch}`),
      onEpochBegin: (epoch) => void events.push(`epoch ${epoch}`),
      onBatchEnd: (batch) => void batches.push(batch),
      onEpochEnd: (end) => void events.push(`end ${end.epoch}`),
      onTrainEnd: (result) => void events.push(`done ${result.history.epochs.length}`),
    },
  })
  t.deepEqual(events, ['begin 8', 'epoch 1', 'end 1', 'epoch 2', 'end 2', 'done 2'])
  t.deepEqual(batches.filter((b) => b.epoch === 1).map((b) => b.batch), [0, 1, 2, 3, 4, 5, 6, 7])
  const dropped = await train({ data, epochs: 1, device: 'cpu', dropLast: true, trainAccuracy: false })
  t.is(dropped.history.epochs.length, 1)
  let count = 0
  await train({ data, epochs: 1, device: 'cpu', dropLast: true, callbacks: { onBatchEnd: () => void count++ } })
  t.is(count, 7)
})

test('train() names the field and the value of a bad option', async (t) => {
  await t.throwsAsync(train({ batchSize: 0 }), { instanceOf: InvalidArgumentError, message: 'train(): batchSize must be an integer in [1, 2147483647], got 0' })
  await t.throwsAsync(train({ epochs: 1.5 }), { instanceOf: InvalidArgumentError, message: /epochs must be an integer in \[1, 2147483647\], got 1.5/ })
  await t.throwsAsync(train({ lr: -1 }), { instanceOf: InvalidArgumentError, message: /lr must be a number in \(0, 3.4e38\] \(a float32\), got -1/ })
  await t.throwsAsync(train({ device: 'gpu' as Device }), { instanceOf: InvalidArgumentError, message: /device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'/ })
  await t.throwsAsync(train({ seed: -2 }), { instanceOf: InvalidArgumentError, message: /seed must be a non-negative integer, got -2/ })
  await t.throwsAsync(train({ dropLast: 'yes' as unknown as boolean }), { instanceOf: InvalidArgumentError, message: /dropLast must be true or false, got 'yes'/ })
  await t.throwsAsync(train({ data: '/no/such/dir' }), { message: /data must be 'mnist', a directory \(IDX, CIFAR-10 binaries or an image folder\) or an http\(s\) URL, got '\/no\/such\/dir'/ })
})

test('an aborted run rejects with TrainingAbortedError and keeps a loadable checkpoint', async (t) => {
  const data = await subsets(2_000, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-abort-'))
  const controller = new AbortController()
  const error = await t.throwsAsync(
    train({ data, epochs: 3, device: 'cpu', out, batchesPerCall: 2, signal: controller.signal, callbacks: { onBatchEnd: (b) => void (b.epoch === 2 && b.batch === 3 && controller.abort()) } }),
    { instanceOf: TrainingAbortedError },
  )
  t.is(error!.history.epochs.length, 1)
  t.is(error!.checkpoint, join(out, 'checkpoint'))
  const training = JSON.parse(await readFile(join(out, 'checkpoint', 'training.json'), 'utf8'))
  t.like(training.loop, { epoch: 2, batch: 4, epochDone: false, step: 16 + 4 })
  t.is(training.loop.epochLosses.length, 4)
  const restored = await Model.load(join(out, 'checkpoint'), { device: 'cpu' })
  t.deepEqual(restored.parameterNames(), ['conv_1.weight', 'conv_1.bias', 'conv_2.weight', 'conv_2.bias', 'linear_1.weight', 'linear_1.bias'])
  t.true(existsSync(join(out, 'history.json')))
})

test('a saved model loads with the same parameters and predictions', async (t) => {
  const data = await subsets(1_000, 100)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-save-'))
  const result = await train({ data, epochs: 1, device: 'cpu', out, init: 'default' })
  const loaded = await Model.load(join(out, 'checkpoint'), { device: 'cpu' })
  const images = Float32Array.from(data.test.images as Uint8Array, (v) => v / 255)
  t.deepEqual(loaded.predict(images).probabilities, result.model.predict(images).probabilities)
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))
  t.is(report.test.accuracy, result.test.accuracy)
})
