import test from 'ava'
import { bundledMnistDir, Model, torchLoaderOrders } from '../src/index'
import { mnist } from './helpers/mnist'
import { pythonWithTorch, relativeError, runTorchScript } from './helpers/torch'

const torch = pythonWithTorch()
const STEPS = 120

test('with the torch shuffle, convtorch trains on the seed script\'s batches and gets its costs', async (t) => {
  if ('reason' in torch) {
    t.log(`skipped: ${torch.reason}`)
    t.pass()
    return
  }
  const expected = runTorchScript<{ costs: number[]; params: Record<string, number[]> }>(torch.python, 'seed_script_steps.py', { data: bundledMnistDir(), steps: STEPS })
  const { train } = await mnist()
  const [order] = torchLoaderOrders({ seed: 1, epochs: 1, count: train.count })
  const model = Model.create({ seed: 1, device: 'cpu' })
  const costs = await model.trainBatches(train.toDevice('cpu'), order.subarray(0, STEPS * 128), 128)
  const errors: Record<string, number> = { costs: relativeError(costs, expected.costs) }
  for (const name of model.parameterNames()) errors[name] = relativeError(model.parameter(name).values, expected.params[name])
  t.log(`after ${STEPS} steps, relative errors: ${JSON.stringify(errors)}`)
  for (const [what, error] of Object.entries(errors)) t.true(error < 1e-5, `${what}: ${error}`)
})
