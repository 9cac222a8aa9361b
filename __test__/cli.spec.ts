import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drawDigits } from './helpers/draw-digits'
import { signalledRun } from './helpers/signal-cli'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')

function convtorch(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 })
}

test('convtorch train --json prints one JSON object per event and nothing else', async (t) => {
  const dir = await smallMnistDir(1_000, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-out-'))
  const run = convtorch(['train', '--data', dir, '--epochs', '2', '--device', 'cpu', '--json', '--out', out, '--init', 'default'])
  t.is(run.status, 0, run.stderr)
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line))
  t.is(events[0].event, 'start')
  t.is(events[0].trainCount, 1000)
  t.deepEqual(events.filter((e) => e.event === 'epoch').map((e) => e.epoch), [1, 2])
  t.true(events.filter((e) => e.event === 'batch').length >= 2)
  const end = events[events.length - 1]
  t.is(end.event, 'end')
  t.is(end.test.count, 200)
  t.is(end.checkpoint, `${out}/checkpoint`)
})

test('convtorch train prints the seed script lines', async (t) => {
  const dir = await smallMnistDir(600, 100)
  const run = convtorch(['train', '--data', dir, '--epochs', '1', '--device', 'cpu', '--out', await mkdtemp(join(tmpdir(), 'convtorch-out-'))])
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /^Epoch: 001\/001 \| Batch 000\/005 \| Cost: 2\.30\d\d$/m)
  t.regex(run.stdout, /^Epoch: 001\/001 training accuracy: \d+\.\d\d%$/m)
  t.regex(run.stdout, /^Time elapsed: \d+\.\d\d min$/m)
  t.regex(run.stdout, /^Test accuracy: \d+\.\d\d%$/m)
})

test('convtorch train refuses a bad flag value with exit code 2 and names it', (t) => {
  const run = convtorch(['train', '--batch-size', '0'])
  t.is(run.status, 2)
  t.regex(run.stderr, /--batch-size must be an integer >= 1, got '0'/)
  const unknown = convtorch(['train', '--batchsize', '3'])
  t.is(unknown.status, 2)
  t.regex(unknown.stderr, /batchsize/)
})

test('convtorch summary prints the seed net with 9,098 parameters', (t) => {
  const run = convtorch(['summary'])
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /pool_2 \(maxPool2d\)\s+16x7x7\s+0/)
  t.regex(run.stdout, /Total params: 9,098/)
})

// Serial: the concurrent tests' spawnSync would block this worker's event loop, so the signal
// would reach the child only after its whole run had finished (exit code 0, nothing to resume).
test.serial('Ctrl-C stops convtorch train with exit code 130; --resume then ends where an uninterrupted run ends', async (t) => {
  const dir = await smallMnistDir(6_000, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-interrupted-'))
  // 188 batches an epoch: the signal, honoured between native calls of 50 batches, lands inside one.
  const flags = ['--data', dir, '--device', 'cpu', '--optimizer', 'adam', '--lr', '0.002', '--shuffle', 'seeded', '--batch-size', '32']
  // Six epochs, interrupted in the second: room for the signal to arrive late on a busy machine.
  // Interrupt once the first epoch is complete and the second has started.
  const { code, stderr } = await signalledRun(['train', ...flags, '--epochs', '6', '--out', out], /Epoch: 002\/006 \| Batch 000/, 'SIGINT')
  t.is(code, 130, stderr)
  t.regex(stderr, /stopping after the current batches and saving a checkpoint/)
  // The signal is honoured between native calls (50 batches each), so where it lands varies.
  const stopped = /aborted in epoch (\d+) after (\d+) batches; checkpoint saved in/.exec(stderr)
  t.truthy(stopped, stderr)
  const { loop } = JSON.parse(await readFile(join(out, 'checkpoint', 'training.json'), 'utf8'))
  t.like(loop, { epoch: Number(stopped![1]), batch: Number(stopped![2]), epochDone: false })
  t.true(existsSync(join(out, 'checkpoint', 'weights.safetensors')))

  const endOf = (run: ReturnType<typeof convtorch>) => JSON.parse(run.stdout.trim().split('\n').pop()!)
  const resumed = convtorch(['train', '--resume', out, '--json'])
  t.is(resumed.status, 0, resumed.stderr)
  t.like(JSON.parse(resumed.stdout.split('\n')[0]), { event: 'start', resumedFrom: { epoch: loop.epoch, batch: loop.batch } })
  const whole = convtorch(['train', ...flags, '--epochs', '6', '--out', await mkdtemp(join(tmpdir(), 'convtorch-whole-')), '--json'])
  t.deepEqual(endOf(resumed).test, endOf(whole).test, 'the same test loss, accuracy and confusion matrix')
  const refused = convtorch(['train', '--resume', out, '--batch-size', '64'])
  t.is(refused.status, 2)
  t.regex(refused.stderr, /batchSize must be 32 as in the run being resumed/)
})

test('a trained run, judged, asked about image files and exported from the command line', async (t) => {
  const dir = await smallMnistDir(6_000, 300)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-life-'))
  t.is(convtorch(['train', '--data', dir, '--epochs', '2', '--device', 'cpu', '--optimizer', 'adam', '--lr', '0.003', '--out', out]).status, 0)

  const judged = convtorch(['eval', '--model', out, '--data', dir, '--device', 'cpu'])
  t.is(judged.status, 0, judged.stderr)
  t.regex(judged.stdout, /^Accuracy: \d+\.\d\d% \(\d+\/300\)$/m)
  t.regex(judged.stdout, /^class\s+precision\s+recall\s+f1\s+support$/m)
  t.regex(judged.stdout, /^actual \\ predicted\s+0\s+1\s+2/m)
  const json = JSON.parse(convtorch(['eval', '--model', join(out, 'best'), '--data', dir, '--json']).stdout)
  t.is(json.count, 300)
  t.is(json.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0), 300)

  const images = await mkdtemp(join(tmpdir(), 'convtorch-images-'))
  const drawn = await drawDigits(images)
  if ('reason' in drawn) t.log(`predict on drawn digits skipped: ${drawn.reason}`)
  else {
    const asked = convtorch(['predict', '--model', out, '--top', '2', images])
    t.is(asked.status, 0, asked.stderr)
    t.is(asked.stdout.trim().split('\n').length, 2 + drawn.digits.length, 'a header, a rule and a line per image')
    const lines = convtorch(['predict', '--model', out, '--json', drawn.digits[0].file, drawn.digits[1].file]).stdout.trim().split('\n').map((l) => JSON.parse(l))
    t.deepEqual(lines.map((l) => l.file), [drawn.digits[0].file, drawn.digits[1].file])
    t.is(lines[0].probabilities.length, 10)
    t.is(lines[0].top.length, 3)
  }
  const missing = convtorch(['predict', '--model', out, join(images, 'nothing.png')])
  t.is(missing.status, 1)
  t.regex(missing.stderr, /nothing\.png/)

  const exported = convtorch(['export', '--model', out, '--format', 'pytorch', '--out', join(out, 'py', 'net.py')])
  t.is(exported.status, 0, exported.stderr)
  t.true(existsSync(join(out, 'py', 'net.py')) && existsSync(join(out, 'py', 'net.safetensors')))
  t.regex(convtorch(['export', '--model', out, '--format', 'tflite']).stderr, /--format must be one of pytorch, onnx, got 'tflite'/)
  t.regex(convtorch(['eval']).stderr, /--model is required/)
})
