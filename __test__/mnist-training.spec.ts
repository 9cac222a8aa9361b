import test from 'ava'
import { Model } from '../src/index'
import { mnist } from './helpers/mnist'

test('a few hundred SGD steps on real MNIST lower the loss and lift test accuracy far above chance', async (t) => {
  const { train, test: testSet } = await mnist()
  t.is(train.count, 60000)
  t.is(testSet.count, 10000)
  // PyTorch's default init: the seed's N(0, 0.01) sits on a loss plateau for ~400 steps first.
  const model = Model.create({ seed: 1, device: 'cpu', init: 'default' })
  const trainData = train.toDevice('cpu')
  const testData = testSet.toDevice('cpu')
  const before = await model.evaluate(testData)
  const steps = 300
  const order = Uint32Array.from({ length: steps * 128 }, (_, i) => i)
  const losses = await model.trainBatches(trainData, order, 128)
  t.is(losses.length, steps)
  const after = await model.evaluate(testData)
  const firstLosses = losses.slice(0, 10).reduce((a, b) => a + b, 0) / 10
  const lastLosses = losses.slice(-50).reduce((a, b) => a + b, 0) / 50
  t.log(`test loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}, accuracy ${(before.accuracy * 100).toFixed(2)}% -> ${(after.accuracy * 100).toFixed(2)}%, batch loss ${firstLosses.toFixed(4)} -> ${lastLosses.toFixed(4)}`)
  t.true(firstLosses > 2, `the first batches start near ln(10), got ${firstLosses}`)
  t.true(lastLosses < 0.6, `mean loss of the last 50 batches ${lastLosses} should be below 0.6`)
  t.true(after.accuracy > 0.8, `test accuracy ${after.accuracy} should exceed 80% (chance is 10%)`)
  t.is(after.predictions.length, 10000)
})
