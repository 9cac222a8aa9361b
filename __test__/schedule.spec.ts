import test from 'ava'
import { InvalidArgumentError, learningRateAt, parseSchedule, train, type ScheduleOptions } from '../src/index'
import { mnist } from './helpers/mnist'
import { pythonWithTorch, relativeError, runTorchScript, torchMissing } from './helpers/torch'

const cases: [string, ScheduleOptions, number][] = [
  ['step', { kind: 'step', stepSize: 3, gamma: 0.5 }, 10],
  ['exponential', { kind: 'exponential', gamma: 0.9 }, 10],
  ['cosine', { kind: 'cosine', minLr: 0.001 }, 25],
  ['one-cycle', { kind: 'oneCycle', maxLr: 0.2, pctStart: 0.25 }, 100],
]

const torch = pythonWithTorch()
for (const [name, schedule, total] of cases) {
  test(`the ${name} schedule gives torch.optim.lr_scheduler's rates`, (t) => {
    const ours = Array.from({ length: total }, (_, i) => learningRateAt(schedule, 0.05, i, total))
    if ('reason' in torch) {
      t.true(ours.every((lr) => Number.isFinite(lr) && lr > 0))
      torchMissing(t, torch.reason)
      return
    }
    const expected = runTorchScript<number[]>(torch.python, 'schedule_parity.py', { schedule, lr: 0.05, total })
    t.true(relativeError(ours, expected) < 1e-12, `${JSON.stringify(ours.slice(0, 5))} vs ${JSON.stringify(expected.slice(0, 5))}`)
  })
}

test('parseSchedule() reads the CLI syntax and refuses bad fields', (t) => {
  t.deepEqual(parseSchedule('step:stepSize=3,gamma=0.5,per=step'), { kind: 'step', stepSize: 3, gamma: 0.5, per: 'step' })
  t.deepEqual(parseSchedule('one-cycle:maxLr=0.1'), { kind: 'oneCycle', maxLr: 0.1 })
  t.throws(() => parseSchedule('step:stepSize=0'), { instanceOf: InvalidArgumentError, message: /schedule.stepSize must be a positive integer, got 0/ })
  t.throws(() => parseSchedule('warmup'), { instanceOf: InvalidArgumentError, message: /schedule.kind must be one of/ })
})

test('train() applies a per-epoch schedule and reports each epoch\'s rate', async (t) => {
  const { train: full, test: fullTest } = await mnist()
  const result = await train({ data: { train: full.slice(0, 512), test: fullTest.slice(0, 100) }, epochs: 3, device: 'cpu', lr: 0.1, schedule: { kind: 'step', stepSize: 1, gamma: 0.5 }, trainAccuracy: false })
  t.deepEqual(result.history.epochs.map((e) => e.learningRate), [0.1, 0.05, 0.025])
})

test('a per-step schedule changes the rate inside an epoch', async (t) => {
  const { train: full, test: fullTest } = await mnist()
  const data = { train: full.slice(0, 512), test: fullTest.slice(0, 100) }
  const constant = await train({ data, epochs: 1, device: 'cpu', lr: 0.1, trainAccuracy: false })
  const stepped = await train({ data, epochs: 1, device: 'cpu', lr: 0.1, schedule: { kind: 'exponential', gamma: 0.01, per: 'step' }, trainAccuracy: false })
  t.is(stepped.history.epochs[0].learningRate, 0.1 * 0.01 ** 3)
  t.notDeepEqual(stepped.model.parameter('linear_1.weight').values, constant.model.parameter('linear_1.weight').values)
})
