import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidArgumentError, train, TrainingAbortedError, type EpochEnd, type ModelSpec, type TrainOptions, type TrainResult } from '../src/index'
import { mnist } from './helpers/mnist'

async function data() {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, 1_200), test: fullTest.slice(0, 200) }
}

const withDropout: ModelSpec = {
  input: [1, 28, 28],
  classes: 10,
  layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same' },
    { type: 'relu' },
    { type: 'maxPool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'dropout', p: 0.4 },
    { type: 'linear', name: 'hidden', units: 32 },
    { type: 'relu' },
    { type: 'dropout', p: 0.2 },
    { type: 'linear', name: 'out', units: 10 },
  ],
}

// The cases of the lifecycle issue: momentum and Adam, per-epoch and per-step schedules, both
// shuffles, dropout.
const cases: Record<string, Omit<TrainOptions, 'data'>> = {
  'SGD with momentum, a per-epoch step schedule, the torch shuffle': {
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    schedule: { kind: 'step', stepSize: 1, gamma: 0.5 },
  },
  'Adam, a per-step exponential schedule, the seeded shuffle': {
    optimizer: { kind: 'adam', lr: 0.002 },
    schedule: { kind: 'exponential', gamma: 0.99, per: 'step' },
    shuffle: 'seeded',
    init: 'default',
  },
  'a spec with dropout, AdamW': {
    model: withDropout,
    optimizer: { kind: 'adamW', lr: 0.003 },
    init: 'default',
  },
}

const EPOCHS = 3
const common = { device: 'cpu', batchSize: 64, batchesPerCall: 4, seed: 7 } as const

/** What must be equal between two runs: every weight bit (as a digest), and each epoch's numbers. */
function fingerprint(result: TrainResult) {
  const epoch = (e: EpochEnd) => [e.epoch, e.trainLoss, e.trainAccuracy, e.testLoss, e.testAccuracy, e.learningRate, e.batches]
  const weights = Object.fromEntries(Object.entries(result.model.parameters()).map(([name, p]) => [name, createHash('sha256').update(p.values).digest('hex').slice(0, 16)]))
  return { weights, epochs: result.history.epochs.map(epoch), test: result.test.loss }
}

for (const [name, options] of Object.entries(cases)) {
  test(`resumed after an epoch, and after Ctrl-C mid-epoch, equals an uninterrupted run: ${name}`, async (t) => {
    const d = await data()
    const whole = fingerprint(await train({ ...options, ...common, data: d, epochs: EPOCHS }))

    const afterEpoch = await mkdtemp(join(tmpdir(), 'convtorch-resume-epoch-'))
    await train({ ...options, ...common, data: d, epochs: 1, out: afterEpoch })
    const resumed = await train({ data: d, resume: afterEpoch, epochs: EPOCHS, device: 'cpu' })
    t.deepEqual(fingerprint(resumed), whole, 'stopped after epoch 1, resumed to 3')

    const midEpoch = await mkdtemp(join(tmpdir(), 'convtorch-resume-mid-'))
    const controller = new AbortController()
    const abortInEpoch2 = { onBatchEnd: (b: { epoch: number; batch: number }) => void (b.epoch === 2 && b.batch === 9 && controller.abort()) }
    const error = await t.throwsAsync(train({ ...options, ...common, data: d, epochs: EPOCHS, out: midEpoch, signal: controller.signal, callbacks: abortInEpoch2 }), { instanceOf: TrainingAbortedError })
    t.regex(error!.message, /aborted in epoch 2 after 12 batches/)
    const continued = await train({ data: d, resume: midEpoch, device: 'cpu' })
    t.deepEqual(fingerprint(continued), whole, 'interrupted in epoch 2 after 12 batches, resumed')
  })
}

test('a resume that would change the run is refused, naming the option', async (t) => {
  const d = await data()
  const out = await mkdtemp(join(tmpdir(), 'convtorch-resume-refuse-'))
  await train({ ...common, data: d, epochs: 1, out, schedule: { kind: 'cosine' } })
  await t.throwsAsync(train({ data: d, resume: out, batchSize: 32 }), { instanceOf: InvalidArgumentError, message: /train\(\): batchSize must be 64 as in the run being resumed .*, got 32/ })
  await t.throwsAsync(train({ data: d, resume: out, optimizer: { kind: 'adam', lr: 0.001 } }), { instanceOf: InvalidArgumentError, message: /optimizer must be \{ kind: 'sgd', lr: 0.05 \} as in the run being resumed/ })
  await t.throwsAsync(train({ data: d, resume: out, lr: 0.1 }), { instanceOf: InvalidArgumentError, message: /lr must be 0.05 as in the run/ })
  await t.throwsAsync(train({ data: d, resume: out, model: 'strong' }), { instanceOf: InvalidArgumentError, message: /model must be the spec of the run being resumed/ })
  await t.throwsAsync(train({ data: d, resume: out, epochs: 4 }), { instanceOf: InvalidArgumentError, message: /epochs must be 1 as in the run being resumed/ }, 'a cosine schedule spans the run: another length is another run')
  await t.throwsAsync(train({ data: { train: d.train.slice(0, 600), test: d.test }, resume: out }), { instanceOf: InvalidArgumentError, message: /data.train must be the 1200 examples of the run being resumed/ })
  const finished = await train({ data: d, resume: out })
  t.is(finished.history.epochs.length, 1, 'resuming a finished run trains no more and evaluates it')
})
