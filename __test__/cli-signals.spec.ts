import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')

test('SIGTERM stops convtorch train like Ctrl-C, checkpointing the position, with exit code 143 (128 + 15)', async (t) => {
  const dir = await smallMnistDir(3_000, 100)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-terminated-'))
  const child = spawn(process.execPath, [cli, 'train', '--data', dir, '--device', 'cpu', '--batch-size', '32', '--epochs', '5', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (/Epoch: 001\/005 \| Batch 000/.test(stdout) && !child.killed) child.kill('SIGTERM')
    })
    child.on('exit', resolve)
  })
  t.is(code, 143, stderr)
  t.regex(stderr, /aborted in epoch \d+ after \d+ batches; checkpoint saved in/)
})
