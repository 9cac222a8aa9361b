import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ModelSpec } from '../src/index'
import { SHAPE_CLASSES, writeShapes } from './helpers/shapes-dataset'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const convtorch = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 240_000 })

// A small RGB ConvNet for 32x32 colour images: three input channels through the fast paths.
const rgbSpec: ModelSpec = {
  input: [3, 32, 32],
  classes: 3,
  layers: [
    { type: 'conv2d', name: 'conv_1', filters: 16, kernel: 3, padding: 'same' },
    { type: 'relu' },
    { type: 'maxPool2d', kernel: 2 },
    { type: 'conv2d', name: 'conv_2', filters: 32, kernel: 3, padding: 'same' },
    { type: 'relu' },
    { type: 'maxPool2d', kernel: 2 },
    { type: 'conv2d', name: 'conv_3', filters: 32, kernel: 3, padding: 'same' },
    { type: 'relu' },
    { type: 'maxPool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'linear', name: 'hidden', units: 64 },
    { type: 'relu' },
    { type: 'linear', name: 'out', units: 3 },
  ],
}

test('an RGB image folder trains from the command line to > 95%, and predict names the class', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-shapes-'))
  const images = await writeShapes({ dir, perClass: { train: 500, test: 60 }, seed: 5 })
  const spec = join(dir, 'rgb.json')
  await writeFile(spec, JSON.stringify(rgbSpec))
  const out = await mkdtemp(join(tmpdir(), 'convtorch-shapes-run-'))
  const flags = ['--data', dir, '--model', spec, '--device', 'cpu', '--init', 'default', '--optimizer', 'adam', '--lr', '0.002', '--batch-size', '32', '--normalise', 'auto']
  const run = convtorch(['train', ...flags, '--epochs', '15', '--out', out, '--json'])
  t.is(run.status, 0, run.stderr)
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line))
  const end = events.at(-1)
  t.log(`test accuracy ${(end.test.accuracy * 100).toFixed(2)}% on ${end.test.count} drawn shapes; epochs: ${events.filter((e) => e.event === 'epoch').map((e) => (e.testAccuracy * 100).toFixed(1)).join(', ')}`)
  t.true(end.test.accuracy > 0.95, `accuracy ${end.test.accuracy}`)

  const testImages = images.filter((i) => i.split === 'test')
  const picks = [testImages[0], testImages[70], testImages[150]]
  const asked = convtorch(['predict', '--model', out, '--json', ...picks.map((p) => p.file)])
  t.is(asked.status, 0, asked.stderr)
  const predictions = asked.stdout.trim().split('\n').map((line) => JSON.parse(line))
  t.deepEqual(predictions.map((p) => p.className), picks.map((p) => SHAPE_CLASSES[p.label]), 'class names, not indices')
  const table = convtorch(['eval', '--model', out, '--data', dir])
  t.regex(table.stdout, /^circle\s+\d\.\d{4}/m, 'eval names the classes')
})

test('--validation-split holds out a stratified validation set, evaluated every epoch and monitored by default', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-shapes-split-'))
  await writeShapes({ dir, perClass: { train: 40, test: 10 }, seed: 6 })
  const spec = join(dir, 'rgb.json')
  await writeFile(spec, JSON.stringify(rgbSpec))
  const out = await mkdtemp(join(tmpdir(), 'convtorch-shapes-split-run-'))
  const run = convtorch(['train', '--data', dir, '--model', spec, '--device', 'cpu', '--init', 'default', '--optimizer', 'adam', '--lr', '0.003', '--epochs', '2', '--validation-split', '0.25', '--out', out])
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /^Data: .* \| train 90 \| validation 30 \| test 30 \| device cpu$/m, '25% of 40 per class')
  t.regex(run.stdout, /^Epoch: 002\/002 validation accuracy: \d+\.\d\d%$/m)
  const training = JSON.parse(await readFile(join(out, 'checkpoint', 'training.json'), 'utf8'))
  t.is(training.callbacks.checkpoint.best.value, Math.max(...training.history.map((e: { validationAccuracy: number }) => e.validationAccuracy)), 'the best checkpoint is chosen by validation accuracy')
  const refused = convtorch(['train', '--data', dir, '--validation-split', '1.5'])
  t.is(refused.status, 2)
  t.regex(refused.stderr, /--validation-split must be a fraction in \(0, 1\), got '1.5'/)
})
