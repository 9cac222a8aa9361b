import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ImageError, InvalidArgumentError, Model, predictFiles, train, type FilePrediction } from '../src/index'
import { drawDigits, type DrawnDigit } from './helpers/draw-digits'

let dir = ''
let drawn: { digits: DrawnDigit[] } | { reason: string } = { reason: 'not drawn yet' }

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convtorch-drawn-'))
  drawn = await drawDigits(dir)
})

test.after.always(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

function accuracy(digits: DrawnDigit[], predictions: FilePrediction[]): number {
  return predictions.filter((p, i) => p.file === digits[i].file && p.label === digits[i].label).length / digits.length
}

test('a seed ConvNet trained 10 epochs reads most drawn digits with the MNIST preprocessing, few with a plain resize', async (t) => {
  t.timeout(280_000)
  if ('reason' in drawn) {
    t.log(`skipped: ${drawn.reason}`)
    return t.pass()
  }
  const { digits } = drawn
  const out = await mkdtemp(join(tmpdir(), 'convtorch-predict-train-'))
  try {
    const started = Date.now()
    const { model } = await train({ epochs: 10, device: 'cpu', out })
    const trained = (Date.now() - started) / 1000
    const files = digits.map((d) => d.file)
    const mnist = await predictFiles(model, files, { top: 3, preprocess: 'mnist' })
    const resized = await predictFiles(model, files, { top: 3, preprocess: 'resize' })
    const [mnistAccuracy, resizeAccuracy] = [accuracy(digits, mnist), accuracy(digits, resized)]
    const misread = mnist.flatMap((p, i) => (p.label === digits[i].label ? [] : [`${digits[i].label} as ${p.label} (${digits[i].variant})`]))
    t.log(`trained in ${trained.toFixed(1)} s; ${digits.length} drawn digits: ${(mnistAccuracy * 100).toFixed(1)}% right with 'mnist' preprocessing, ${(resizeAccuracy * 100).toFixed(1)}% with 'resize'`)
    t.log(`misread with 'mnist': ${misread.join('; ') || 'none'}`)
    t.true(mnistAccuracy >= 0.7, `'mnist' preprocessing: ${mnistAccuracy} of the drawn digits right, expected at least 0.7`)
    t.true(mnistAccuracy > resizeAccuracy + 0.3, `'mnist' (${mnistAccuracy}) should beat a plain resize (${resizeAccuracy}) by far`)
    model.dispose()
  } finally {
    await rm(out, { recursive: true, force: true })
  }
})

test('predictFiles() gives each file its probabilities, a ranked top-K and class names', async (t) => {
  if ('reason' in drawn) {
    t.log(`skipped: ${drawn.reason}`)
    return t.pass()
  }
  const files = drawn.digits.slice(0, 12).map((d) => d.file)
  const model = Model.create({ device: 'cpu', init: 'default' })
  const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']
  const results = await predictFiles(model, files, { top: 4, classNames: names, batchSize: 5 })
  t.deepEqual(results.map((r) => r.file), files, 'one result per file, in order, across batches')
  for (const result of results) {
    t.is(result.probabilities.length, 10)
    t.true(Math.abs(result.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5)
    t.is(result.top.length, 4)
    t.is(result.top[0].label, result.label)
    t.is(result.className, names[result.label])
    for (let k = 1; k < 4; k++) t.true(result.top[k - 1].probability >= result.top[k].probability, 'most probable first')
    for (const score of result.top) {
      t.is(score.probability, result.probabilities[score.label])
      t.is(score.className, names[score.label])
    }
  }
  const plain = await predictFiles(model, files.slice(0, 1), { top: 99 })
  t.is(plain[0].top.length, 10, 'top is capped at the class count')
  t.false('className' in plain[0] || 'className' in plain[0].top[0], 'no class names unless given')
  const defaults = await predictFiles(model, files.slice(0, 1))
  t.is(defaults[0].top.length, 3)
  t.deepEqual(defaults[0].probabilities, plain[0].probabilities, "'mnist' is the default for a 1x28x28 model")
  model.dispose()
})

test('predictFiles() refuses bad options and names an unreadable file', async (t) => {
  const model = Model.create({ device: 'cpu', init: 'default' })
  const file = 'reason' in drawn ? join(dir, 'none.png') : drawn.digits[0].file
  await t.throwsAsync(predictFiles(model, [file], { top: 0 }), { instanceOf: InvalidArgumentError, message: /predictFiles\(\): top must be a positive integer, got 0/ })
  await t.throwsAsync(predictFiles(model, [file], { classNames: ['a', 'b'] }), { instanceOf: InvalidArgumentError, message: /classNames must be an array of 10 strings, one per class, got '2 names'/ })
  await t.throwsAsync(predictFiles(model, [file], { preprocess: 'crop' as 'mnist' }), { instanceOf: InvalidArgumentError, message: /preprocess must be 'mnist' or 'resize', got 'crop'/ })
  await t.throwsAsync(predictFiles(model, [file, 42 as unknown as string]), { instanceOf: InvalidArgumentError, message: /files\[1\] must be a file path, got 42/ })
  const missing = join(dir, 'no-such-digit.png')
  await t.throwsAsync(predictFiles(model, [missing]), { instanceOf: ImageError, message: new RegExp(`${missing.replace(/[.\\]/g, '\\$&')} could not be read`) })
  const rgb = Model.create({ device: 'cpu', init: 'default', model: { input: [3, 32, 32], classes: 2, layers: [{ type: 'flatten' }, { type: 'linear', name: 'fc', units: 2 }] } })
  await t.throwsAsync(predictFiles(rgb, [file], { preprocess: 'mnist' }), { instanceOf: InvalidArgumentError, message: /preprocess must be 'resize' for a 3x32x32 model \('mnist' needs 1x28x28\), got 'mnist'/ })
  if (!('reason' in drawn)) {
    const [result] = await predictFiles(rgb, [file])
    t.is(result.probabilities.length, 2, "an RGB model gets 'resize' by default")
  }
  model.dispose()
  rgb.dispose()
})
