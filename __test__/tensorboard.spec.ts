import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidArgumentError, tensorboard } from '../src/index'
import { readCsv } from '../src/training/csv-log'
import { unavailable } from './helpers/host'
import { smallMnistDir } from './helpers/small-mnist'

const root = join(__dirname, '..', '..')
const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const reader = join(root, '__test__', 'fixtures', 'read_tensorboard.py')

/** A Python that imports the tensorboard package: the one named for it, the build's, or ./.venv's. */
function tensorboardPython(): { python: string } | { reason: string } {
  const candidates = [process.env.CONVTORCH_TENSORBOARD_PYTHON, process.env.CONVTORCH_PYTHON, join(root, '.venv', 'bin', 'python')].filter((p): p is string => !!p)
  for (const python of candidates) if (spawnSync(python, ['-c', 'import tensorboard'], { encoding: 'utf8' }).status === 0) return { python }
  return { reason: `no Python with the tensorboard package among ${candidates.join(', ')} (pip install tensorboard)` }
}

type Read = { versions: string[]; scalars: Record<string, Array<[number, number]>>; images: Record<string, Array<{ step: number; width: number; height: number; pngMagic: string; bytes: number }>>; dataLoss?: string }

function readEvents(python: string, files: string[]): { status: number | null; read: Read } {
  const run = spawnSync(python, [reader, ...files], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } })
  if (run.status !== 0 && run.status !== 3) throw new Error(`read_tensorboard.py failed (${run.status}): ${run.stderr}`)
  return { status: run.status, read: JSON.parse(run.stdout.trim().split('\n').pop()!) }
}

test('--tensorboard writes event files that the tensorboard package reads back: batch and epoch scalars, the confusion matrix image', async (t) => {
  const found = tensorboardPython()
  if ('reason' in found) return unavailable(t, found.reason, 'the tensorboard package')
  const dir = await smallMnistDir(1_000, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-tb-run-'))
  const logs = await mkdtemp(join(tmpdir(), 'convtorch-tb-'))
  const run = spawnSync(process.execPath, [cli, 'train', '--data', dir, '--epochs', '2', '--device', 'cpu', '--quiet', '--no-report', '--out', out, '--tensorboard', logs], { encoding: 'utf8' })
  t.is(run.status, 0, run.stderr)
  const files = (await readdir(logs)).map((f) => join(logs, f))
  t.is(files.length, 1)
  t.regex(files[0], /events\.out\.tfevents\.\d+\./)
  const { status, read } = readEvents(found.python, files)
  t.is(status, 0)
  t.deepEqual(read.versions, ['brain.Event:2'])
  const batches = await readCsv(join(out, 'batches.csv'))
  t.deepEqual(read.scalars['batch/loss'], batches.map((b) => [Number(b.step), Math.fround(Number(b.loss))]))
  t.deepEqual(read.scalars['batch/learning_rate'].map(([, v]) => v), batches.map((b) => Math.fround(Number(b.learningRate))))
  const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'))
  t.deepEqual(read.scalars['epoch/test_accuracy'], history.map((e: { epoch: number; testAccuracy: number }) => [e.epoch, Math.fround(e.testAccuracy)]))
  t.is(read.scalars['epoch/train_loss'].length, 2)
  const [matrix] = read.images['test/confusion_matrix']
  t.like(matrix, { step: 16, pngMagic: '89504e470d0a1a0a' })
  t.true(matrix.width > 300 && matrix.height > 300 && matrix.bytes > 5_000, JSON.stringify(matrix))

  // The reader checks every CRC: one flipped byte inside a record is data loss, not a value.
  const bytes = await readFile(files[0])
  bytes[bytes.length - 40] ^= 0xff
  const damaged = join(logs, 'damaged.tfevents')
  await writeFile(damaged, bytes)
  const broken = readEvents(found.python, [damaged])
  t.is(broken.status, 3)
  t.regex(broken.read.dataLoss!, /crc32 check/)
})

test('tensorboard() names a bad dir', (t) => {
  t.throws(() => tensorboard({ dir: '' }), { instanceOf: InvalidArgumentError, message: "tensorboard(): dir must be a directory path, got ''" })
})
