import test from 'ava'
import { Model } from '../src/index'
import { firstBatch } from './helpers/mnist'
import { pythonWithTorch, relativeError, runTorchScript, torchMissing } from './helpers/torch'

interface TorchAnswer {
  torch: string
  initial: Record<string, number[]>
  logits: number[]
  loss: number
  grads: Record<string, number[]>
  updated: Record<string, number[]>
}

const TOLERANCE = 1e-5
const torchAvailable = pythonWithTorch()

if ('reason' in torchAvailable) {
  test('parity with PyTorch', (t) => {
    torchMissing(t, torchAvailable.reason)
  })
} else {
  const { python } = torchAvailable

  test('the seed ConvNet matches PyTorch: init, logits, loss, gradients and one SGD step', async (t) => {
    const seed = 7
    const lr = 0.05
    const model = Model.create({ seed, device: 'cpu' })
    const before = model.parameters()
    const { images, labels } = await firstBatch(32)
    const logits = model.logits(images)
    const loss = model.trainStep(images, labels)
    const request = {
      seed,
      lr,
      count: labels.length,
      images: Array.from(images),
      labels: Array.from(labels),
      params: Object.fromEntries(Object.entries(before).map(([name, p]) => [name, { shape: p.shape, values: Array.from(p.values) }])),
    }
    const expected = runTorchScript<TorchAnswer>(python, 'seed_convnet_parity.py', request)
    const observed: Record<string, number> = {}

    for (const name of model.parameterNames()) {
      // The same seed gives bit-identical initial weights: the RNG stream is consumed as torch does.
      t.deepEqual(Array.from(before[name].values), Array.from(Float32Array.from(expected.initial[name])), `initial ${name}`)
    }
    observed.logits = relativeError(logits, expected.logits)
    observed.loss = Math.abs(loss - expected.loss) / Math.abs(expected.loss)
    for (const name of model.parameterNames()) {
      const gradient = model.gradient(name)
      t.truthy(gradient, `gradient of ${name}`)
      observed[`grad ${name}`] = relativeError(gradient!.values, expected.grads[name])
      observed[`updated ${name}`] = relativeError(model.parameter(name).values, expected.updated[name])
    }
    t.log(`torch ${expected.torch}; relative errors: ${JSON.stringify(observed)}`)
    for (const [what, error] of Object.entries(observed)) {
      t.true(error <= TOLERANCE, `${what}: relative error ${error} > ${TOLERANCE}`)
    }
  })
}
