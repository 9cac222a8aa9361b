import test from 'ava'
import { appendFile, mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { train, TrainingAbortedError, type BatchEnd, type TrainOptions } from '../src/index'
import { readCsv } from '../src/training/csv-log'
import { HISTORY_COLUMNS } from '../src/training/history-csv'
import { mnist } from './helpers/mnist'

async function data() {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, 1_000), test: fullTest.slice(0, 200) }
}

// 8 batches an epoch; one-cycle changes the rate every step.
const options = async (): Promise<TrainOptions> => ({ data: await data(), epochs: 3, device: 'cpu', batchesPerCall: 3, report: false, optimizer: { kind: 'sgd', lr: 0.05 }, schedule: { kind: 'oneCycle', maxLr: 0.2 } })

test('history.csv and batches.csv hold every epoch and batch, with the per-step learning rate the loop used', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'convtorch-csv-'))
  const seen: BatchEnd[] = []
  const result = await train({ ...(await options()), out, callbacks: { onBatchEnd: (b) => void seen.push(b) } })
  const header = (await readFile(join(out, 'history.csv'), 'utf8')).split('\n')[0]
  t.is(header, HISTORY_COLUMNS.join(','))
  const epochs = await readCsv(join(out, 'history.csv'))
  t.deepEqual(epochs.map((e) => Number(e.epoch)), [1, 2, 3])
  result.history.epochs.forEach((end, i) => {
    t.is(Number(epochs[i].trainLoss), end.trainLoss)
    t.is(Number(epochs[i].testAccuracy), end.testAccuracy!)
    t.is(Number(epochs[i].trainSeconds), end.seconds.train)
  })
  const batches = await readCsv(join(out, 'batches.csv'))
  t.is(batches.length, 24)
  t.deepEqual(batches.map((b) => Number(b.step)), Array.from({ length: 24 }, (_, i) => i + 1))
  t.deepEqual(batches.map((b) => Number(b.loss)), seen.map((b) => b.loss))
  // The loop reports the rate of an epoch's last batch: the file's must agree, computed apart.
  for (const end of result.history.epochs) t.is(Number(batches[end.epoch * 8 - 1].learningRate), end.learningRate)
  const rates = new Set(batches.map((b) => b.learningRate))
  t.true(rates.size > 20, `${rates.size} distinct rates`)
})

test('a resumed run continues both files, cutting the rows a crash left past its checkpoint', async (t) => {
  const whole = await mkdtemp(join(tmpdir(), 'convtorch-csv-whole-'))
  await train({ ...(await options()), out: whole })
  const out = await mkdtemp(join(tmpdir(), 'convtorch-csv-cut-'))
  const controller = new AbortController()
  await t.throwsAsync(train({ ...(await options()), out, signal: controller.signal, callbacks: { onBatchEnd: (b) => void (b.epoch === 2 && b.batch === 1 && controller.abort()) } }), { instanceOf: TrainingAbortedError })
  const { loop } = JSON.parse(await readFile(join(out, 'checkpoint', 'training.json'), 'utf8'))
  t.is(loop.step, 8 + 3)
  t.is((await readCsv(join(out, 'batches.csv'))).length, loop.step, 'written up to the interruption')
  // As if the process had trained on past the checkpoint and died mid-write.
  await appendFile(join(out, 'batches.csv'), '2,3,12,9.9,0.1\n2,4,13,9.9,0.1\n2,5,1')
  await appendFile(join(out, 'history.csv'), '2,3,9.9,,,,0.1,8,1,0,0,1\n')
  await train({ resume: out, data: await data(), report: false })
  const rows = async (dir: string, file: string) => (await readCsv(join(dir, file))).map((r) => ({ ...r, trainSeconds: '', trainEvalSeconds: '', testEvalSeconds: '', elapsed: '' }))
  t.deepEqual(await rows(out, 'batches.csv'), await rows(whole, 'batches.csv'))
  t.deepEqual(await rows(out, 'history.csv'), await rows(whole, 'history.csv'))
})
