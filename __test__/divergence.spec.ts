import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Dataset, InvalidArgumentError, Model, NonFiniteLossError, readCheckpoint, train } from '../src/index'
import { mnist } from './helpers/mnist'
import { smallMnistDir } from './helpers/small-mnist'

async function data() {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, 1_000), test: fullTest.slice(0, 100) }
}

// lr 0.05 in epoch 1, then 0.05 x 1e20: the loss is finite in epoch 1 and NaN in epoch 2.
const divergesInEpoch2 = { device: 'cpu', batchSize: 100, schedule: { kind: 'exponential', gamma: 1e20 } } as const

test('a NaN loss stops the run with an error naming the epoch and batch; the last good checkpoint stays', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'convtorch-diverge-'))
  const error = await t.throwsAsync(train({ ...divergesInEpoch2, data: await data(), epochs: 3, out }), { instanceOf: NonFiniteLossError })
  t.is(error!.code, 'CONVTORCH_NON_FINITE')
  t.is(error!.epoch, 2)
  t.regex(error!.message, /^train\(\): the loss became (NaN|Infinity|-Infinity) in epoch 2 at batch \d+; training stopped/)
  const saved = await readCheckpoint(out)
  t.like(saved.training!.loop, { epoch: 1, epochDone: true })
  const model = await Model.load(out, { device: 'cpu' })
  t.true(Object.values(model.parameters()).every((p) => p.values.every(Number.isFinite)), 'the checkpoint holds the finite weights of epoch 1')
})

test("onNonFinite: 'continue' trains on, as before; a bad value is refused by name", async (t) => {
  const result = await train({ ...divergesInEpoch2, data: await data(), epochs: 2, onNonFinite: 'continue', trainAccuracy: false })
  t.true(Number.isNaN(result.history.epochs[1].trainLoss))
  await t.throwsAsync(train({ data: await data(), onNonFinite: 'skip' as never }), { instanceOf: InvalidArgumentError, message: /onNonFinite must be 'stop' or 'skip-batch' or 'continue', got 'skip'/ })
})

test("onNonFinite: 'skip-batch' skips the step of a batch whose loss is not finite: the weights stay finite", async (t) => {
  const { train: full, test: fullTest } = await mnist()
  const good = full.slice(0, 1_000)
  // Ten examples whose pixels are NaN: their batch's loss is NaN, and a step on it would make
  // every weight NaN.
  const poisoned = Dataset.fromArrays({ images: new Float32Array(10 * 784).fill(Number.NaN), labels: Array(10).fill(3), shape: [1, 28, 28], classes: 10 })
  const mixed = Dataset.fromArrays({
    images: Float32Array.from([...Array.from(good.images as Uint8Array, (v) => v / 255), ...poisoned.images]),
    labels: Int32Array.from([...good.labels, ...poisoned.labels]),
    shape: [1, 28, 28],
    classes: 10,
  })
  // Every batch that draws one of the ten has a NaN loss.
  const options = { data: { train: mixed, test: fullTest.slice(0, 100) }, epochs: 2, batchSize: 10, shuffle: 'seeded', init: 'default', device: 'cpu', trainAccuracy: false } as const
  const nanBatches = [0, 0]
  const counter = { onBatchEnd: (b: { epoch: number; loss: number }) => void (Number.isNaN(b.loss) && (nanBatches[b.epoch - 1] += 1)) }
  const skipped = await train({ ...options, onNonFinite: 'skip-batch', callbacks: [counter] })
  t.true(Object.values(skipped.model.parameters()).every((p) => p.values.every(Number.isFinite)), 'no step was taken on the NaN batches')
  t.true(nanBatches.every((n) => n >= 1 && n <= 10), `NaN batches per epoch: ${nanBatches.join(', ')}`)
  t.deepEqual(skipped.history.epochs.map((e) => e.skippedBatches), nanBatches)
  t.true(skipped.history.epochs.every((e) => Number.isFinite(e.trainLoss)), 'the epoch loss is the mean of the finite batches')
  t.true(skipped.test.accuracy > 0.5, `accuracy ${skipped.test.accuracy}`)
  const continued = await train({ ...options, onNonFinite: 'continue' })
  t.false(Object.values(continued.model.parameters()).every((p) => p.values.every(Number.isFinite)), "'continue' steps on it, as PyTorch would")
})

test('convtorch train --lr 1e30 exits non-zero and says where the loss broke', async (t) => {
  const dir = await smallMnistDir(600, 100)
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'src', 'cli', 'main.js'), 'train', '--data', dir, '--lr', '1e30', '--epochs', '1', '--device', 'cpu', '--out', await mkdtemp(join(tmpdir(), 'convtorch-diverge-cli-'))], { encoding: 'utf8' })
  t.is(run.status, 1)
  t.regex(run.stderr, /convtorch: train\(\): the loss became (NaN|Infinity) in epoch 1 at batch \d+/)
})
