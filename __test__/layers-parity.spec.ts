import test from 'ava'
import { Model, type ModelSpec, type OptimizerOptions } from '../src/index'
import { firstBatch } from './helpers/mnist'
import { paritySpecs } from './helpers/parity-specs'
import { pythonWithTorch, relativeError, runTorchScript, torchMissing } from './helpers/torch'

interface Answer {
  logits: number[]
  losses: number[]
  grads: Record<string, number[]>
  updated: Record<string, number[]>
}

const specs = paritySpecs

const optimizers: Record<string, OptimizerOptions> = {
  'plain SGD': { kind: 'sgd', lr: 0.1 },
  'SGD with Nesterov momentum and weight decay': { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  'SGD with momentum and dampening': { kind: 'sgd', lr: 0.05, momentum: 0.8, dampening: 0.1 },
  Adam: { kind: 'adam', lr: 1e-3, weightDecay: 1e-4 },
  AdamW: { kind: 'adamW', lr: 1e-3, beta1: 0.8, weightDecay: 0.05 },
}

const TOLERANCE = 1e-5
const STEPS = 4
const torch = pythonWithTorch()

if ('reason' in torch) {
  test('layer and optimizer parity with PyTorch', (t) => {
    torchMissing(t, torch.reason)
  })
} else {
  const check = async (t: import('ava').ExecutionContext, spec: ModelSpec, optimizer: OptimizerOptions) => {
    const model = Model.create({ model: spec, seed: 5, device: 'cpu', init: 'default', optimizer })
    const { images, labels } = await firstBatch(16)
    const params = Object.fromEntries(Object.entries(model.parameters()).map(([name, p]) => [name, { shape: p.shape, values: Array.from(p.values) }]))
    const logits = model.logits(images)
    const losses: number[] = []
    let grads: Record<string, Float32Array> | undefined
    for (let step = 0; step < STEPS; step++) {
      losses.push(model.trainStep(images, labels))
      grads ??= Object.fromEntries(model.parameterNames().map((name) => [name, model.gradient(name)!.values]))
    }
    const expected = runTorchScript<Answer>(torch.python, 'spec_parity.py', { spec, params, images: Array.from(images), labels: Array.from(labels), count: labels.length, optimizer, steps: STEPS })
    const errors: Record<string, number> = { logits: relativeError(logits, expected.logits), losses: relativeError(losses, expected.losses) }
    for (const name of model.parameterNames()) {
      errors[`grad ${name}`] = relativeError(grads![name], expected.grads[name])
      errors[`after ${STEPS} steps ${name}`] = relativeError(model.parameter(name).values, expected.updated[name])
    }
    const worst = Math.max(...Object.values(errors))
    t.log(`worst relative error ${worst.toExponential(2)}`)
    for (const [what, error] of Object.entries(errors)) t.true(error <= TOLERANCE, `${what}: relative error ${error} > ${TOLERANCE}`)
  }

  for (const [name, spec] of Object.entries(specs)) {
    test(`forward, gradients and SGD steps match PyTorch: ${name}`, (t) => check(t, spec, optimizers['plain SGD']))
  }
  for (const [name, optimizer] of Object.entries(optimizers)) {
    test(`${STEPS} steps of ${name} match torch.optim`, (t) => check(t, specs['sigmoid and a hidden linear layer'], optimizer))
  }
}

test('dropout is the identity in evaluation', async (t) => {
  const spec: ModelSpec = { input: [1, 28, 28], classes: 10, layers: [{ type: 'flatten' }, { type: 'dropout', p: 0.5 }, { type: 'linear', name: 'fc', units: 10 }] }
  const model = Model.create({ model: spec, device: 'cpu', init: 'default' })
  const { images } = await firstBatch(64)
  const first = model.logits(images)
  // Equal to float rounding, not bit for bit: a quick call made while another test's training
  // holds the compute thread runs on the single-threaded side thread, where MKL's GEMM sums in
  // another order (a few ULPs). Dropout left on would zero half the inputs and double the rest.
  const worstDifference = (a: Float32Array, b: Float32Array) => a.reduce((worst, x, i) => Math.max(worst, Math.abs(x - b[i]) / Math.max(1, Math.abs(b[i]))), 0)
  t.is(first.length, 64 * 10)
  const again = worstDifference(model.logits(images), first)
  t.true(again <= 1e-6, `evaluation is deterministic: no dropout (relative difference ${again})`)
  const withoutDropout = Model.create({ model: { ...spec, layers: [spec.layers[0], spec.layers[2]] }, device: 'cpu', init: 'default' })
  const plain = worstDifference(withoutDropout.logits(images), first)
  t.true(plain <= 1e-6, `same seed, same weights: dropout is the identity in evaluation (relative difference ${plain})`)
})
