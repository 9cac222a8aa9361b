import test from 'ava'
import { existsSync, readlinkSync } from 'node:fs'
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkpoint, earlyStopping, InvalidArgumentError, Model, train, type Callback, type FitContext } from '../src/index'
import { mnist } from './helpers/mnist'

async function data() {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, 1_000), test: fullTest.slice(0, 200) }
}

const quick = { device: 'cpu', batchSize: 100, init: 'default', trainAccuracy: false, optimizer: { kind: 'adam', lr: 0.003 } } as const
// Adam's lr 0.003 for epoch 1, then x100 per epoch: the test loss is best after epoch 1.
const diverging = { schedule: { kind: 'exponential', gamma: 100 } } as const

test('callbacks take a list, run in order on every hook, and see the loop position', async (t) => {
  const events: string[] = []
  const recorder = (tag: string): Callback => ({
    onTrainBegin: (info, c) => void events.push(`${tag} begin ${info.batchesPerEpoch} ${c.loop.epoch}`),
    onEpochBegin: (epoch, c) => void events.push(`${tag} epoch ${epoch} at batch ${c.loop.batch}`),
    onBatchEnd: (b, c) => void (b.batch === 9 && events.push(`${tag} batch ${b.batch} step ${c.loop.step}`)),
    onEpochEnd: (end, c) => void events.push(`${tag} end ${end.epoch} history ${c.history.epochs.length}`),
    onEpochsEnd: () => void events.push(`${tag} epochs over`),
    onTrainEnd: (result) => void events.push(`${tag} done ${result.history.epochs.length} ${result.stopped}`),
  })
  await train({ ...quick, data: await data(), epochs: 2, callbacks: [recorder('a'), recorder('b')] })
  t.deepEqual(events, [
    'a begin 10 0', 'b begin 10 0',
    'a epoch 1 at batch 0', 'b epoch 1 at batch 0',
    'a batch 9 step 10', 'b batch 9 step 10',
    // History is the first callback: the epoch is recorded before the others hear of it.
    'a end 1 history 1', 'b end 1 history 1',
    'a epoch 2 at batch 0', 'b epoch 2 at batch 0',
    'a batch 9 step 20', 'b batch 9 step 20',
    'a end 2 history 2', 'b end 2 history 2',
    'a epochs over', 'b epochs over',
    'a done 2 null', 'b done 2 null',
  ])
  await t.throwsAsync(train({ ...quick, data: await data(), callbacks: [null as unknown as Callback] }), { instanceOf: InvalidArgumentError, message: /callbacks\[0\] must be a callback object, got null/ })
})

test('stop() ends the run cleanly after the running batches; the partial epoch is evaluated', async (t) => {
  const stopper: Callback = { onBatchEnd: (b, c: FitContext) => void (b.epoch === 2 && b.batch === 2 && c.stop('enough for today')) }
  const result = await train({ ...quick, data: await data(), epochs: 5, batchesPerCall: 3, callbacks: stopper })
  t.is(result.stopped, 'enough for today')
  t.deepEqual(result.history.epochs.map((e) => e.batches), [10, 3])
  t.true(result.test.accuracy > 0.3, 'the model is returned and evaluated')
})

test('earlyStopping stops when the monitored loss stalls and restores the best epoch', async (t) => {
  const stopping = earlyStopping({ monitor: 'testLoss', patience: 1, restoreBest: true })
  let bestWeights: Float32Array | undefined
  const keeper: Callback = { onEpochEnd: (end, c) => void (end.epoch === 1 && (bestWeights = c.model.parameter('linear_1.weight').values)) }
  const result = await train({ ...quick, ...diverging, data: await data(), epochs: 6, callbacks: [keeper, stopping] })
  const losses = result.history.epochs.map((e) => e.testLoss!)
  t.log(`test losses per epoch: ${losses.map((l) => l.toFixed(3)).join(', ')}`)
  t.is(result.history.epochs.length, 2, 'patience 1: one epoch without improvement stops the run')
  t.true(losses[1] > losses[0] || Number.isNaN(losses[1]))
  t.regex(result.stopped!, /early stopping: testLoss has not improved .* for 1 epochs \(best .* at epoch 1\)/)
  t.deepEqual(stopping.best?.epoch, 1)
  t.is(stopping.stoppedEpoch, 2)
  t.deepEqual(result.model.parameter('linear_1.weight').values, bestWeights, 'the best epoch is restored')
  t.is(result.test.loss, losses[0], 'the final evaluation is of the restored weights')
  t.throws(() => earlyStopping({ monitor: 'accuracy' as 'testAccuracy' }), { instanceOf: InvalidArgumentError, message: /monitor must be one of 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'validationLoss', 'validationAccuracy', got 'accuracy'/ })
  t.throws(() => earlyStopping({ patience: -1 }), { message: /patience must be an integer >= 0, got -1/ })
})

test('checkpoint() keeps the last and the best epoch as links into checkpoints/', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'convtorch-ckpt-'))
  const result = await train({ ...quick, ...diverging, data: await data(), epochs: 3, out, callbacks: checkpoint({ dir: out, monitor: 'testAccuracy', keep: 2 }) })
  const accuracies = result.history.epochs.map((e) => e.testAccuracy!)
  const bestEpoch = accuracies.indexOf(Math.max(...accuracies)) + 1
  t.is(readlinkSync(join(out, 'checkpoint')), 'checkpoints/epoch-003-batch-0010')
  t.is(readlinkSync(join(out, 'best')), `checkpoints/epoch-00${bestEpoch}-batch-0010`)
  const kept = (await readdir(join(out, 'checkpoints'))).sort()
  t.true(kept.includes('epoch-002-batch-0010') && kept.includes('epoch-003-batch-0010'), `keep 2: ${kept.join(', ')}`)
  t.true(kept.length <= 3, 'nothing else is kept')
  const best = await Model.load(join(out, 'best'), { device: 'cpu' })
  const { test } = await data()
  const evaluation = await best.evaluate(test.toDevice('cpu'))
  t.is(evaluation.accuracy, accuracies[bestEpoch - 1])
  t.is(result.checkpoint, join(out, 'checkpoint'))
})

test('a checkpoint() of the user replaces the default one; the run record stays in out', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'convtorch-out-'))
  const elsewhere = await mkdtemp(join(tmpdir(), 'convtorch-elsewhere-'))
  await train({ ...quick, data: await data(), epochs: 1, out, callbacks: checkpoint({ dir: elsewhere, monitor: null }) })
  t.false(existsSync(join(out, 'checkpoint')))
  t.true(existsSync(join(out, 'history.json')) && existsSync(join(out, 'report.json')))
  t.true(existsSync(join(elsewhere, 'checkpoint', 'training.json')))
  t.false(existsSync(join(elsewhere, 'best')), 'monitor null keeps no best')
})
