// How `convtorch train` ends on a signal: a closed terminal (SIGHUP) and kill (SIGTERM) stop it
// like Ctrl-C, with a checkpoint and the shell's exit code 128 + n; before training starts there
// is nothing to save and it exits at once, even while a read or a download is blocked.
import test from 'ava'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signalledRun } from './helpers/signal-cli'
import { stallingServer } from './helpers/server'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')

for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`${signal} stops a run with exit code ${code} and keeps the interrupted epoch in a checkpoint`, async (t) => {
    const dir = await smallMnistDir(6_000, 200)
    const out = await mkdtemp(join(tmpdir(), `convtorch-${signal}-`))
    const run = await signalledRun(['train', '--data', dir, '--device', 'cpu', '--epochs', '6', '--batch-size', '32', '--shuffle', 'seeded', '--out', out], /Epoch: 002\/006 \| Batch 000/, signal)
    t.is(run.code, code, run.stderr)
    t.regex(run.stderr, new RegExp(`convtorch: ${signal}: stopping after the current batches and saving a checkpoint`))
    const stopped = /aborted in epoch (\d+) after (\d+) batches; checkpoint saved in/.exec(run.stderr)
    t.truthy(stopped, run.stderr)
    const { loop } = JSON.parse(await readFile(join(out, 'checkpoint', 'training.json'), 'utf8'))
    t.like(loop, { epoch: Number(stopped![1]), batch: Number(stopped![2]) })
  })
}

test('a FIFO where an IDX file should be is refused at once instead of blocking the run', async (t) => {
  const dir = await smallMnistDir(100, 100)
  execFileSync('sh', ['-c', `rm "${dir}/train-images-idx3-ubyte.gz" && mkfifo "${dir}/train-images-idx3-ubyte"`])
  const run = await signalledRun(['train', '--data', dir, '--device', 'cpu', '--epochs', '1'], /never/, 'SIGKILL')
  t.is(run.code, 1)
  t.regex(run.stderr, /train-images-idx3-ubyte: not a regular file \(a FIFO\); IDX data must be a file/)
})

test('a signal while the data is still downloading exits at once and says there was nothing to save', async (t) => {
  // A mirror that accepts the request and never answers.
  let asked = false
  const server = await stallingServer(() => void (asked = true))
  t.teardown(() => server.close())
  const url = `${server.url}/mnist`
  const cache = await mkdtemp(join(tmpdir(), 'convtorch-signal-cache-'))
  const out = await mkdtemp(join(tmpdir(), 'convtorch-signal-out-'))
  const child = spawn(process.execPath, [cli, 'train', '--data', url, '--cache-dir', cache, '--device', 'cpu', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const timer = setInterval(() => asked && child.kill('SIGINT'), 50)
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  clearInterval(timer)
  t.is(code, 130, stderr)
  t.regex(stderr, /convtorch: SIGINT before training started; nothing to save, exiting/)
  t.notRegex(stderr, /saving a checkpoint/)
  t.false(existsSync(join(out, 'checkpoint')))
})
