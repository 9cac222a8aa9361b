import test from 'ava'
import { bundledMnistDir, Model, torchLoaderOrders } from '../src/index'
import { mnist } from './helpers/mnist'
import { pythonWithTorch, relativeError, runTorchScript, torchMissing } from './helpers/torch'

const torch = pythonWithTorch()
const STEPS = 120

test('with the torch shuffle, convtorch trains on the seed script\'s batches and gets its costs', async (t) => {
  if ('reason' in torch) {
    torchMissing(t, torch.reason)
    return
  }
  const expected = runTorchScript<{ costs: number[]; params: Record<string, number[]> }>(torch.python, 'seed_script_steps.py', { data: bundledMnistDir(), steps: STEPS })
  const { train } = await mnist()
  const [order] = torchLoaderOrders({ seed: 1, epochs: 1, count: train.count })
  const data = train.toDevice('cpu')
  // The literal spec runs libtorch's own kernels in PyTorch's order: the same numbers.
  const literal = Model.create({ seed: 1, device: 'cpu', fastPaths: false })
  const costs = await literal.trainBatches(data, order.subarray(0, STEPS * 128), 128)
  const errors: Record<string, number> = { costs: relativeError(costs, expected.costs) }
  for (const name of literal.parameterNames()) errors[name] = relativeError(literal.parameter(name).values, expected.params[name])
  t.log(`literal spec, after ${STEPS} steps, relative errors: ${JSON.stringify(errors)}`)
  for (const [what, error] of Object.entries(errors)) t.true(error < 1e-5, `${what}: ${error}`)

  // The fast paths (the default) sum in another order (~1e-7 relative per step); training
  // amplifies such differences (a near-tie in a pooling window can flip which element takes
  // the gradient), so after 120 steps the parameters differ by up to a few percent of their
  // largest value (the biases, which are small) while the costs still agree to 1e-5.
  // A wrong gradient would show as errors of order 1.
  const fast = Model.create({ seed: 1, device: 'cpu' })
  const fastCosts = await fast.trainBatches(data, order.subarray(0, STEPS * 128), 128)
  const fastErrors: Record<string, number> = { costs: relativeError(fastCosts, expected.costs) }
  for (const name of fast.parameterNames()) fastErrors[name] = relativeError(fast.parameter(name).values, expected.params[name])
  t.log(`fast paths, after ${STEPS} steps, relative errors: ${JSON.stringify(fastErrors)}`)
  t.true(fastErrors.costs < 1e-5, `costs: ${fastErrors.costs}`)
  for (const name of fast.parameterNames()) t.true(fastErrors[name] < 0.1, `${name}: ${fastErrors[name]}`)
})
