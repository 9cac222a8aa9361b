import test from 'ava'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signalledRun } from './helpers/signal-cli'
import { smallMnistDir } from './helpers/small-mnist'

test('SIGTERM stops convtorch train like Ctrl-C, checkpointing the position, with exit code 143 (128 + 15)', async (t) => {
  const dir = await smallMnistDir(3_000, 100)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-terminated-'))
  const { code, stderr } = await signalledRun(['train', '--data', dir, '--device', 'cpu', '--batch-size', '32', '--epochs', '5', '--out', out], /Epoch: 001\/005 \| Batch 000/, 'SIGTERM')
  t.is(code, 143, stderr)
  t.regex(stderr, /aborted in epoch \d+ after \d+ batches; checkpoint saved in/)
})
