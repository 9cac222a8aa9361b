import test from 'ava'
import { Dataset, Model } from '../src/index'
import { mnist } from './helpers/mnist'
import { relativeError } from './helpers/torch'

// trainBatches() gathers batches on the device from an uploaded dataset, in one native call
// for many batches; trainStep() takes a batch of host pixels per call. Same numbers expected.
test('trainBatches() (device gather, many batches per call) equals trainStep() per host batch', async (t) => {
  const { train } = await mnist()
  const subset = train.slice(0, 640)
  const order = Uint32Array.from({ length: 640 }, (_, i) => (i * 7) % 640)
  const fast = Model.create({ seed: 3, device: 'cpu', init: 'default' })
  const plain = Model.create({ seed: 3, device: 'cpu', init: 'default' })
  const fastLosses = await fast.trainBatches(subset.toDevice('cpu'), order, 64)
  const plainLosses: number[] = []
  for (let start = 0; start < order.length; start += 64) {
    const indices = order.subarray(start, start + 64)
    const images = new Float32Array(indices.length * 784)
    indices.forEach((example, row) => {
      for (let p = 0; p < 784; p++) images[row * 784 + p] = (subset.images as Uint8Array)[example * 784 + p] / 255
    })
    plainLosses.push(plain.trainStep(images, Array.from(indices, (i) => subset.labels[i])))
  }
  t.deepEqual(Array.from(fastLosses), Array.from(Float32Array.from(plainLosses)))
  for (const name of fast.parameterNames()) t.deepEqual(fast.parameter(name).values, plain.parameter(name).values, name)
})

test('a per-step learning-rate array equals setting the rate before each single step', async (t) => {
  const { train } = await mnist()
  const data = train.slice(0, 256).toDevice('cpu')
  const order = Uint32Array.from({ length: 256 }, (_, i) => i)
  const rates = [0.1, 0.05, 0.02, 0.01]
  const fast = Model.create({ seed: 4, device: 'cpu' })
  const plain = Model.create({ seed: 4, device: 'cpu' })
  await fast.trainBatches(data, order, 64, rates)
  for (let batch = 0; batch < 4; batch++) {
    plain.setLearningRate(rates[batch])
    await plain.trainBatches(data, order.subarray(batch * 64, (batch + 1) * 64), 64)
  }
  for (const name of fast.parameterNames()) t.deepEqual(fast.parameter(name).values, plain.parameter(name).values, name)
})

test('a second concurrent call on one model is refused with BusyError, and the first completes', async (t) => {
  const { train } = await mnist()
  const data = train.slice(0, 4096).toDevice('cpu')
  const model = Model.create({ device: 'cpu' })
  const order = Uint32Array.from({ length: 4096 }, (_, i) => i)
  const first = model.trainBatches(data, order, 128)
  const second = model.trainBatches(data, order, 128)
  const [a, b] = await Promise.allSettled([first, second])
  t.is(a.status, 'fulfilled')
  t.is(b.status, 'rejected')
  t.is((b as PromiseRejectedResult).reason.name, 'BusyError')
})

// Fast paths: activation after max-pool, our CPU max-pooling kernel (values through gather),
// and the first convolution as one matrix product. Each spec exercises a different geometry.
const fastPathSpecs = {
  seed: 'seed' as const,
  leakyTanh: { input: [1, 28, 28] as [number, number, number], classes: 10, layers: [
    { type: 'conv2d' as const, filters: 6, kernel: 3, padding: 1 }, { type: 'leakyRelu' as const, slope: 0.05 }, { type: 'maxPool2d' as const, kernel: 2 },
    { type: 'conv2d' as const, filters: 8, kernel: 3 }, { type: 'tanh' as const }, { type: 'maxPool2d' as const, kernel: 2 },
    { type: 'flatten' as const }, { type: 'linear' as const, units: 10 },
  ] },
  // A strided 5x5 first layer, an overlapping padded pool, a pool with nothing before it.
  overlapping: { input: [1, 28, 28] as [number, number, number], classes: 10, layers: [
    { type: 'conv2d' as const, filters: 4, kernel: 5, stride: 2, padding: 2 }, { type: 'relu' as const },
    { type: 'maxPool2d' as const, kernel: 3, stride: 2, padding: 1 }, { type: 'maxPool2d' as const, kernel: 2, stride: 1 },
    { type: 'flatten' as const }, { type: 'linear' as const, units: 10 },
  ] },
  // RGB: channels-last from the first convolution on, ReLU in place after a convolution, a
  // pool (also through flatten) and a linear layer, and not after a sigmoid (which keeps its
  // output for its gradient).
  rgb: { input: [3, 28, 28] as [number, number, number], classes: 10, layers: [
    { type: 'conv2d' as const, filters: 8, kernel: 3, padding: 1 }, { type: 'relu' as const },
    { type: 'conv2d' as const, filters: 8, kernel: 3, padding: 1 }, { type: 'relu' as const }, { type: 'maxPool2d' as const, kernel: 2 },
    { type: 'conv2d' as const, filters: 12, kernel: 3, stride: 2 }, { type: 'sigmoid' as const }, { type: 'relu' as const },
    { type: 'avgPool2d' as const, kernel: 2 }, { type: 'flatten' as const }, { type: 'relu' as const },
    { type: 'linear' as const, units: 32 }, { type: 'relu' as const }, { type: 'linear' as const, units: 10 },
  ] },
}

/** MNIST in three channels: the digit, its negative and a shifted copy, so channels differ. */
function rgbOf(grey: Dataset): Dataset {
  const plane = 784
  const images = new Uint8Array(grey.count * 3 * plane)
  const source = grey.images as Uint8Array
  for (let n = 0; n < grey.count; n++) {
    for (let p = 0; p < plane; p++) {
      const v = source[n * plane + p]
      images[(n * 3) * plane + p] = v
      images[(n * 3 + 1) * plane + p] = 255 - v
      images[(n * 3 + 2) * plane + p] = source[n * plane + ((p + 29) % plane)]
    }
  }
  return Dataset.fromArrays({ images, labels: grey.labels, shape: [3, 28, 28], classes: 10 })
}

for (const [name, model] of Object.entries(fastPathSpecs)) {
  test(`fast paths train and evaluate like the literal spec (${name})`, async (t) => {
    const { train } = await mnist()
    const subset = train.slice(0, 3200)
    const data = (model !== 'seed' && model.input[0] === 3 ? rgbOf(subset) : subset).toDevice('cpu')
    const order = Uint32Array.from({ length: 3200 }, (_, i) => i)
    const fast = Model.create({ model, seed: 9, device: 'cpu', init: 'default' })
    const plain = Model.create({ model, seed: 9, device: 'cpu', init: 'default', fastPaths: false })
    const fastLosses = await fast.trainBatches(data, order, 64)
    const plainLosses = await plain.trainBatches(data, order, 64)
    t.true(relativeError(fastLosses, plainLosses) < 1e-5, `losses differ: ${relativeError(fastLosses, plainLosses)}`)
    // Another convolution kernel (channels-last) sums in another order, and SGD carries each
    // step's rounding into the next: after 50 steps ~2e-7 for most specs, up to 5e-5 for
    // leakyTanh (measured), whose tanh-then-pool windows can flip their maximum on a near tie.
    const errors: Record<string, number> = {}
    for (const parameter of fast.parameterNames()) {
      const error = relativeError(fast.parameter(parameter).values, plain.parameter(parameter).values)
      errors[parameter] = error
      t.true(error < 1e-4, `${parameter} after 50 steps: relative error ${error}`)
    }
    t.log(`relative errors after 50 steps: ${JSON.stringify(errors)}`)
    const [fastEval, plainEval] = [await fast.evaluate(data, { batchSize: 500 }), await plain.evaluate(data, { batchSize: 500 })]
    t.true(Math.abs(fastEval.loss - plainEval.loss) <= 1e-5 * Math.abs(plainEval.loss), `loss ${fastEval.loss} vs ${plainEval.loss}`)
    const differing = fastEval.predictions.filter((p, i) => p !== plainEval.predictions[i]).length
    t.true(differing <= 1, `${differing} of 3200 predictions differ`)
  })
}
