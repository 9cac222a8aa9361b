import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { InvalidArgumentError, Model, train } from '../src/index'
import { firstBatch, mnist } from './helpers/mnist'
import { pythonWith, relativeError, runTorchScript, torchMissing } from './helpers/torch'

// The fixture reads (and writes) weights with the safetensors package.
const torch = pythonWith(['torch', 'safetensors'])

async function trainedSeedModel() {
  const { train: full, test: fullTest } = await mnist()
  const out = await mkdtemp(join(tmpdir(), 'convtorch-inspect-'))
  const result = await train({ data: { train: full.slice(0, 2_000), test: fullTest.slice(0, 100) }, epochs: 1, device: 'cpu', out, optimizer: { kind: 'adam', lr: 0.003 }, trainAccuracy: false })
  return { model: result.model, weights: join(out, 'checkpoint', 'weights.safetensors') }
}

test('feature maps after each convolution and pooling layer, and Grad-CAM, match PyTorch', async (t) => {
  if ('reason' in torch) return torchMissing(t, torch.reason, 'torch with safetensors')
  const { model, weights } = await trainedSeedModel()
  const { images, labels } = await firstBatch(6)
  const maps = model.featureMaps(images)
  t.deepEqual(maps.map((m) => [m.layer, m.type, m.shape]), [[0, 'conv2d', [6, 8, 28, 28]], [2, 'maxPool2d', [6, 8, 14, 14]], [3, 'conv2d', [6, 16, 14, 14]], [5, 'maxPool2d', [6, 16, 7, 7]]])
  const classes = Array.from(labels)
  const cam = model.gradCam(images, classes)
  t.deepEqual(cam.shape, [6, 14, 14])
  const expected = runTorchScript<{ maps: Record<string, number[]>; cam: number[] }>(torch.python, 'inspect_parity.py', { weights, images: Array.from(images), count: 6, classes })
  const errors = Object.fromEntries(['conv_1', 'pool_1', 'conv_2', 'pool_2'].map((name, i) => [name, relativeError(maps[i].values, expected.maps[name])]))
  errors.gradCam = relativeError(cam.values, expected.cam)
  t.log(`relative errors against torch: ${JSON.stringify(errors)}`)
  for (const [what, error] of Object.entries(errors)) t.true(error <= 1e-5, `${what}: ${error}`)
  t.true(cam.values.some((v) => v > 0), 'the map is not empty')
})

test('Grad-CAM refuses a class out of range and a model without a convolution', async (t) => {
  const model = Model.create({ device: 'cpu' })
  const { images } = await firstBatch(2)
  t.throws(() => model.gradCam(images, [1, 10]), { instanceOf: InvalidArgumentError, message: /classes\[1\] must be a class index in \[0, 10\), got 10/ })
  t.throws(() => model.gradCam(images, [1]), { instanceOf: InvalidArgumentError, message: /classes must be one per image \(2\), got 1 classes/ })
  const dense = Model.create({ model: { input: [1, 28, 28], classes: 10, layers: [{ type: 'flatten' }, { type: 'linear', units: 10 }] }, device: 'cpu' })
  t.throws(() => dense.gradCam(images, [0, 0]), { instanceOf: InvalidArgumentError, message: /a model with at least one conv2d layer/ })
  t.deepEqual(dense.featureMaps(images), [])
})

test('convtorch inspect draws filters, feature maps and Grad-CAM of an image file into one PNG', async (t) => {
  const { train: full, test: fullTest } = await mnist()
  const out = await mkdtemp(join(tmpdir(), 'convtorch-inspect-cli-'))
  await train({ data: { train: full.slice(0, 2_000), test: fullTest.slice(0, 100) }, epochs: 1, device: 'cpu', out, optimizer: { kind: 'adam', lr: 0.003 }, trainAccuracy: false, report: false })
  // A test digit as a PNG file, as a user would have one.
  const image = join(out, 'digit.png')
  await sharp(Buffer.from(fullTest.images.subarray(0, 784) as Uint8Array), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(image)
  const maps = join(out, 'maps.png')
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'src', 'cli', 'main.js'), 'inspect', '--model', out, image, '--out', maps], { encoding: 'utf8' })
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /digit\.png: \d \(\d+\.\d%\); wrote .*maps\.png/)
  const { width, height } = await sharp(maps).metadata()
  t.true(width! >= 360 && height! > 900, `${width}x${height}: input, filters, four layers and the map`)
  const stats = await sharp(maps).stats()
  t.true(stats.channels[0].mean > stats.channels[1].mean, 'red from the Grad-CAM overlay')
  const bad = spawnSync(process.execPath, [join(__dirname, '..', 'src', 'cli', 'main.js'), 'inspect', '--model', out, image, '--class', '12'], { encoding: 'utf8' })
  t.is(bad.status, 2)
  t.regex(bad.stderr, /--class must be below the model's 10 classes, got '12'/)
})
