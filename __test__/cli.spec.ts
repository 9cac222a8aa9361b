import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

test('Ctrl-C stops convtorch train with exit code 130 and keeps a checkpoint', async (t) => {
  const dir = await smallMnistDir(6_000, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-interrupted-'))
  const child = spawn(process.execPath, [cli, 'train', '--data', dir, '--epochs', '50', '--device', 'cpu', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      // Interrupt once the first epoch is complete and the second has started.
      if (/Epoch: 002\/050 \| Batch 000/.test(stdout) && !child.killed) child.kill('SIGINT')
    })
    child.on('exit', resolve)
  })
  t.is(code, 130, stderr)
  t.regex(stderr, /stopping after the current batches and saving a checkpoint/)
  // The signal is honoured between native calls (50 batches each), so where it lands varies.
  const stopped = /aborted in epoch (\d+) after (\d+) batches; checkpoint saved in/.exec(stderr)
  t.truthy(stopped, stderr)
  const progress = JSON.parse(await readFile(join(out, 'checkpoint', 'progress.json'), 'utf8'))
  t.deepEqual(progress, { epoch: Number(stopped![1]), batch: Number(stopped![2]), complete: false })
  t.true(progress.epoch >= 2 && progress.epoch < 50)
  t.true(existsSync(join(out, 'checkpoint', 'weights.safetensors')))
})
