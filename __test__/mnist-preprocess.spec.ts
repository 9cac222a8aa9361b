import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { InvalidArgumentError, mnistInputFromFile, preprocessMnist, readImage, type DecodedImage } from '../src/index'
import { areaResize } from '../src/image/area-resize'
import { centreOfMass } from '../src/image/mnist-preprocess'
import { mnist } from './helpers/mnist'

function canvas(height: number, width: number, background: number): DecodedImage {
  return { channels: 1, height, width, pixels: new Float32Array(height * width).fill(background) }
}

function paint(image: DecodedImage, top: number, left: number, height: number, width: number, value: number): DecodedImage {
  for (let y = top; y < top + height; y++) image.pixels.fill(value, y * image.width + left, y * image.width + left + width)
  return image
}

/** Rows and columns holding any non-zero pixel of a 28x28 input. */
function extent(pixels: Float32Array): { top: number; bottom: number; left: number; right: number } {
  const box = { top: 28, bottom: -1, left: 28, right: -1 }
  pixels.forEach((v, i) => {
    if (v <= 0) return
    const [y, x] = [Math.floor(i / 28), i % 28]
    Object.assign(box, { top: Math.min(box.top, y), bottom: Math.max(box.bottom, y), left: Math.min(box.left, x), right: Math.max(box.right, x) })
  })
  return box
}

/** A ring (a crude zero) drawn dark on light paper. */
function darkRing(): DecodedImage {
  const image = canvas(90, 70, 0.92)
  paint(image, 15, 15, 60, 40, 0.1)
  return paint(image, 25, 25, 40, 20, 0.92)
}

test('a dark digit on light paper becomes light on black, exactly as its light-on-dark twin', (t) => {
  const result = preprocessMnist(darkRing())
  t.true(result.inverted)
  t.false(result.blank)
  const { top, bottom, left, right } = extent(result.pixels)
  t.is(result.pixels[0], 0, 'the background is 0')
  t.is(result.pixels[14 * 28 + 14], 0, 'the hole of the ring stays dark')
  t.is(result.pixels[top * 28 + Math.round((left + right) / 2)], 1, 'the ink is 1')
  t.is(bottom - top + 1, 20, 'the longer side is fitted to 20')
  const twin = darkRing()
  twin.pixels.forEach((v, i) => (twin.pixels[i] = 1 - v))
  const fromTwin = preprocessMnist(twin)
  t.false(fromTwin.inverted)
  t.deepEqual(Array.from(fromTwin.pixels), Array.from(result.pixels))
})

test('an off-centre L ends with its centre of mass, not its box, at pixel (14, 14)', (t) => {
  // An L in the top-right corner: most of its mass is in the vertical bar.
  const image = canvas(200, 200, 0)
  paint(image, 10, 150, 60, 12, 1)
  paint(image, 58, 120, 12, 42, 1)
  const { pixels } = preprocessMnist(image)
  const [cy, cx] = centreOfMass(pixels, 28, 28)
  t.true(Math.abs(cy - 14) <= 0.5 && Math.abs(cx - 14) <= 0.5, `centre of mass (${cy.toFixed(2)}, ${cx.toFixed(2)})`)
  const box = extent(pixels)
  t.not((box.left + box.right) / 2, cx, 'the box centre differs from the centre of mass: the shift follows the mass')
  t.true((box.left + box.right) / 2 < 13.5, `box centre column ${(box.left + box.right) / 2} lies left of the centre`)
})

test('a tall thin stroke keeps its aspect ratio: 100x10 becomes 20x2', (t) => {
  const image = paint(canvas(160, 120, 1), 30, 70, 100, 10, 0)
  const { pixels } = preprocessMnist(image)
  const box = extent(pixels)
  t.is(box.bottom - box.top + 1, 20)
  t.is(box.right - box.left + 1, 2)
  t.is(pixels[box.top * 28 + box.left], 1)
})

test('the output is 28x28 values in [0, 1] with the brightest ink at 1, for noisy grey photos too', (t) => {
  const image = paint(canvas(120, 90, 0.7), 30, 30, 50, 14, 0.25)
  // Deterministic paper texture of +-0.04 around the background.
  image.pixels.forEach((v, i) => (image.pixels[i] = v + 0.04 * Math.sin(i * 12.9898)))
  const { pixels, inverted } = preprocessMnist(image)
  t.true(inverted)
  t.is(pixels.length, 784)
  t.true(pixels.every((v) => v >= 0 && v <= 1))
  t.is(Math.max(...pixels), 1)
  const box = extent(pixels)
  t.is(box.bottom - box.top + 1, 20, 'the paper texture stays out of the ink box')
})

test('a blank image gives all zeros and blank: true, whether white, black or faintly noisy', (t) => {
  for (const level of [1, 0, 0.5]) {
    const image = canvas(40, 40, level)
    image.pixels.forEach((v, i) => (image.pixels[i] = Math.min(1, Math.max(0, v + 0.03 * Math.sin(i)))))
    const result = preprocessMnist(image)
    t.true(result.blank, `background ${level}`)
    t.true(result.pixels.every((v) => v === 0))
    t.is(result.pixels.length, 784)
  }
})

test('MNIST digits themselves are nearly a fixed point of the preprocessing', async (t) => {
  const { test: testSet } = await mnist()
  let total = 0
  const count = 200
  for (let i = 0; i < count; i++) {
    const pixels = Float32Array.from(testSet.images.subarray(i * 784, (i + 1) * 784) as Uint8Array, (v) => v / 255)
    const { pixels: again } = preprocessMnist({ channels: 1, height: 28, width: 28, pixels })
    total += again.reduce((sum, v, k) => sum + Math.abs(v - pixels[k]), 0) / 784
  }
  t.log(`mean absolute change per pixel ${(total / count).toFixed(4)}`)
  t.true(total / count < 0.05, `MNIST digits change by ${total / count} per pixel on average`)
})

test('preprocessMnist() wants one grey channel of matching size', (t) => {
  const rgb: DecodedImage = { channels: 3, height: 2, width: 2, pixels: new Float32Array(12) }
  t.throws(() => preprocessMnist(rgb), { instanceOf: InvalidArgumentError, message: /image\.channels must be 1 .*got 3/ })
  const short: DecodedImage = { channels: 1, height: 4, width: 4, pixels: new Float32Array(15) }
  t.throws(() => preprocessMnist(short), { instanceOf: InvalidArgumentError, message: /image\.pixels must be height x width = 16 values, got '15 values'/ })
})

test('mnistInputFromFile() is preprocessMnist() of the grey decoded file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-mnist-pre-'))
  try {
    const file = join(dir, 'ring.png')
    const ring = darkRing()
    await sharp(Buffer.from(ring.pixels.map((v) => Math.round(v * 255))), { raw: { width: ring.width, height: ring.height, channels: 1 } }).png().toFile(file)
    const fromFile = await mnistInputFromFile(file)
    t.deepEqual(fromFile, preprocessMnist(await readImage(file, { channels: 1 })))
    t.true(fromFile.inverted)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('area averaging keeps block means and total mass', (t) => {
  const plane = Float32Array.from({ length: 16 }, (_, i) => i)
  t.deepEqual(Array.from(areaResize(plane, 4, 4, 2, 2)), [2.5, 4.5, 10.5, 12.5])
  const odd = Float32Array.from({ length: 35 }, (_, i) => (i * 7) % 5)
  const small = areaResize(odd, 5, 7, 3, 2)
  const mass = (a: Float32Array, cells: number) => a.reduce((s, v) => s + v, 0) / cells
  t.true(Math.abs(mass(small, 6) - mass(odd, 35)) < 1e-5, 'the mean is unchanged by a fractional-ratio resize')
  t.deepEqual(Array.from(areaResize(new Float32Array(6).fill(0.3), 2, 3, 5, 4)), Array.from({ length: 20 }, () => Math.fround(0.3)))
})
