import test from 'ava'
import { InvalidArgumentError, train } from '../src/index'
import { resolveOptions } from '../src/training/options'

test('train() refuses a top-level lr that disagrees with optimizer.lr, instead of silently preferring one', async (t) => {
  await t.throwsAsync(train({ lr: 0.1, optimizer: { kind: 'adam', lr: 0.001 } }), {
    instanceOf: InvalidArgumentError,
    message: 'train(): lr must be left out or equal to optimizer.lr (0.001): the learning rate is given once, got 0.1',
  })
})

test('the learning rate is given once, in either place; optimizer.lr may be left out', (t) => {
  t.deepEqual(resolveOptions({ optimizer: { kind: 'adam', lr: 0.002 } }).optimizer, { kind: 'adam', lr: 0.002 })
  t.deepEqual(resolveOptions({ lr: 0.002, optimizer: { kind: 'adam' } }).optimizer, { kind: 'adam', lr: 0.002 })
  t.deepEqual(resolveOptions({ optimizer: { kind: 'sgd', momentum: 0.9 } }).optimizer, { kind: 'sgd', momentum: 0.9, lr: 0.05 })
})
