import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { channelStatistics, Dataset, InvalidArgumentError, Model, parseAugment, train, TrainingAbortedError, type TrainResult } from '../src/index'
import { mnist } from './helpers/mnist'

async function data() {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, 1_000), test: fullTest.slice(0, 200) }
}

const digest = (result: TrainResult) =>
  createHash('sha256')
    .update(Buffer.concat(Object.values(result.model.parameters()).map((p) => Buffer.from(p.values.buffer, p.values.byteOffset, p.values.byteLength))))
    .digest('hex')

const augmented = { device: 'cpu', batchSize: 50, batchesPerCall: 4, init: 'default', optimizer: { kind: 'adam', lr: 0.003 }, augment: { crop: 3, flip: true, rotate: 10, scale: 0.1, translate: 0.1 } } as const

test('augmentation is the same for the same seed and settings, and changes training', async (t) => {
  const d = await data()
  const a = await train({ ...augmented, data: d, epochs: 1, seed: 4 })
  const b = await train({ ...augmented, data: d, epochs: 1, seed: 4 })
  const otherCrop = await train({ ...augmented, data: d, epochs: 1, seed: 4, augment: { ...augmented.augment, crop: 2 } })
  const plain = await train({ ...augmented, data: d, epochs: 1, seed: 4, augment: undefined })
  t.is(digest(a), digest(b))
  t.not(digest(a), digest(otherCrop))
  t.not(digest(a), digest(plain))
  t.deepEqual(a.options.augment, augmented.augment)
})

test('an augmented run resumed mid-epoch repeats the augmentation exactly', async (t) => {
  const d = await data()
  const whole = await train({ ...augmented, data: d, epochs: 2, seed: 9 })
  const out = await mkdtemp(join(tmpdir(), 'convtorch-augment-resume-'))
  const controller = new AbortController()
  await t.throwsAsync(
    train({ ...augmented, data: d, epochs: 2, seed: 9, out, signal: controller.signal, callbacks: { onBatchEnd: (b) => void (b.epoch === 1 && b.batch === 5 && controller.abort()) } }),
    { instanceOf: TrainingAbortedError },
  )
  const resumed = await train({ data: d, resume: out, device: 'cpu' })
  t.is(digest(resumed), digest(whole))
  await t.throwsAsync(train({ data: d, resume: out, augment: { flip: true } }), { instanceOf: InvalidArgumentError, message: /augment must be .* as in the run being resumed/ })
})

test("normalise: 'auto' computes each channel's statistics on the training set; the model keeps them", async (t) => {
  const d = await data()
  const out = await mkdtemp(join(tmpdir(), 'convtorch-auto-normalise-'))
  const result = await train({ data: d, epochs: 1, device: 'cpu', normalise: 'auto', out, trainAccuracy: false })
  const expected = channelStatistics(d.train)
  t.deepEqual(result.model.normalise, expected)
  t.true(Math.abs((expected.mean[0] as number) - 0.13) < 0.01, `MNIST's mean is about 0.13: ${expected.mean[0]}`)
  t.true(Math.abs((expected.std[0] as number) - 0.31) < 0.01, `and its std about 0.31: ${expected.std[0]}`)
  const loaded = await Model.load(out, { device: 'cpu' })
  t.deepEqual(loaded.normalise, expected)
  const evaluation = await loaded.evaluate(d.test.toDevice('cpu', loaded.normalise!))
  t.is(evaluation.accuracy, result.test.accuracy)
})

test('bad augmentation and normalisation options are refused by name', async (t) => {
  const d = await data()
  await t.throwsAsync(train({ data: d, augment: { crop: 2.5 } }), { instanceOf: InvalidArgumentError, message: /augment\.crop must be an integer in \[0, 64\]/ })
  await t.throwsAsync(train({ data: d, augment: { spin: 1 } as never }), { instanceOf: InvalidArgumentError, message: /augment\.spin .*not 'spin'/ })
  await t.throwsAsync(train({ data: d, normalise: { mean: [0.1, 0.2], std: 0 } }), { instanceOf: InvalidArgumentError, message: /normalise\.std must be a finite number > 0/ })
  await t.throwsAsync(train({ data: d, normalise: { mean: [0.1, 0.2, 0.3], std: 1 }, device: 'cpu' }), { message: /mean must be 1 value or one per channel \(1\), got 3 values/ })
  t.deepEqual(parseAugment('crop=4,flip,rotate=10'), { crop: 4, flip: true, rotate: 10 })
  t.throws(() => parseAugment('crop=x'), { message: /augment\.crop must be an integer/ })
})

test('per-channel normalisation on upload equals normalising the floats first', async (t) => {
  // Three channels of distinct statistics: the pixels of three MNIST digits, scaled differently.
  const { train: full } = await mnist()
  const count = 64
  const plane = 28 * 28
  const bytes = new Uint8Array(count * 3 * plane)
  for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) bytes[(i * 3 + c) * plane + p] = Math.round((full.images[((i + c * count) % 60_000) * plane + p] as number) * (1 - c * 0.3))
  const labels = Array.from(full.labels.subarray(0, count))
  const rgb = Dataset.fromArrays({ images: bytes, labels, shape: [3, 28, 28], classes: 10 })
  const normalise = channelStatistics(rgb)
  t.true(normalise.mean[0] > normalise.mean[2], 'the channels differ')
  const floats = Float32Array.from(bytes, (v, i) => {
    const c = Math.floor(i / plane) % 3
    return (v / 255 - normalise.mean[c]) / normalise.std[c]
  })
  const spec = { input: [3, 28, 28] as [number, number, number], classes: 10, layers: [{ type: 'conv2d' as const, filters: 4, kernel: 3 }, { type: 'relu' as const }, { type: 'flatten' as const }, { type: 'linear' as const, units: 10 }] }
  const model = Model.create({ model: spec, device: 'cpu', init: 'default' })
  const onUpload = await model.evaluate(rgb.toDevice('cpu', normalise))
  const before = await model.evaluate(Dataset.fromArrays({ images: floats, labels, shape: [3, 28, 28], classes: 10 }).toDevice('cpu'))
  t.deepEqual(onUpload.predictions, before.predictions)
  t.true(Math.abs(onUpload.loss - before.loss) < 1e-5 * before.loss)
  const plain = await model.evaluate(rgb.toDevice('cpu'))
  t.not(plain.loss, before.loss, 'and it is not a no-op')
})
