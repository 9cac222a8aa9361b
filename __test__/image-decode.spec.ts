import test from 'ava'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { decodeImage, ImageError, InvalidArgumentError, listImageFiles, readImage } from '../src/index'

let dir = ''

// Red, green, blue and white pixels, row-major.
const RGB = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])

function raw(data: Buffer, width: number, height: number, channels: 1 | 3 | 4) {
  return sharp(data, { raw: { width, height, channels } })
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convtorch-decode-'))
  await raw(RGB, 2, 2, 3).png().toFile(join(dir, 'rgb.png'))
  await raw(RGB, 2, 2, 3).webp({ lossless: true }).toFile(join(dir, 'rgb.webp'))
  await raw(Buffer.from([0, 128, 255, 64]), 2, 2, 1).png().toFile(join(dir, 'grey.png'))
  // Transparent black, opaque black, half-transparent black, transparent red.
  await raw(Buffer.from([0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 128, 255, 0, 0, 0]), 2, 2, 4).png().toFile(join(dir, 'rgba.png'))
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 100, b: 50 } } }).jpeg({ quality: 95 }).toFile(join(dir, 'solid.jpg'))
  await sharp({ create: { width: 30, height: 20, channels: 3, background: '#000' } }).gif().toFile(join(dir, 'anim.gif'))
  const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).jpeg().toBuffer()
  await writeFile(join(dir, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1))
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).png().toBuffer()
  await writeFile(join(dir, 'truncated.png'), png.subarray(0, png.length - 20))
  await writeFile(join(dir, 'notes.png'), 'these are notes, not pixels')
})

test.after.always(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

const rounded = (values: Float32Array) => Array.from(values, (v) => Math.round(v * 255))

test('RGB PNG and lossless WebP decode to planar [3, h, w] floats of byte / 255', async (t) => {
  for (const file of ['rgb.png', 'rgb.webp']) {
    const image = await readImage(join(dir, file), { channels: 3 })
    t.like(image, { channels: 3, height: 2, width: 2 })
    t.deepEqual(rounded(image.pixels), [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255], file)
    t.is(image.pixels[0], 1)
  }
})

test('grey requested from colour uses sharp greyscale; colour requested from grey repeats the plane', async (t) => {
  const grey = await readImage(join(dir, 'rgb.png'), { channels: 1 })
  t.is(grey.pixels.length, 4)
  const [red, green, blue, white] = grey.pixels
  t.true(green > red && red > blue, `luminance order green > red > blue, got ${[red, green, blue]}`)
  t.is(white, 1)
  const colour = await readImage(join(dir, 'grey.png'), { channels: 3 })
  t.deepEqual(rounded(colour.pixels), [0, 128, 255, 64, 0, 128, 255, 64, 0, 128, 255, 64])
})

test('alpha is flattened over white', async (t) => {
  const { pixels } = await readImage(join(dir, 'rgba.png'), { channels: 1 })
  t.deepEqual(rounded(pixels), [255, 0, 127, 255])
})

test('JPEG decodes close to its colour', async (t) => {
  const { pixels } = await readImage(join(dir, 'solid.jpg'), { channels: 3 })
  const mean = (c: number) => pixels.subarray(c * 256, (c + 1) * 256).reduce((a, b) => a + b, 0) / 256
  t.true(Math.abs(mean(0) - 200 / 255) < 3 / 255 && Math.abs(mean(1) - 100 / 255) < 3 / 255 && Math.abs(mean(2) - 50 / 255) < 3 / 255, `${[mean(0), mean(1), mean(2)].map((v) => v * 255)}`)
})

test('decodeImage() stretches to the model input size', async (t) => {
  const pixels = await decodeImage(join(dir, 'solid.jpg'), { channels: 1, height: 28, width: 20 })
  t.is(pixels.length, 28 * 20)
  t.true(pixels.every((v) => v > 0.3 && v < 0.6))
  const rgb = await decodeImage(join(dir, 'rgb.png'), { channels: 3, height: 3, width: 5, fit: 'resize' })
  t.is(rgb.length, 3 * 3 * 5)
})

test('unreadable, truncated and non-image files are ImageErrors naming the file and the reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['truncated.jpg', /truncated\.jpg could not be decoded \(jpeg\): the file is damaged or truncated \(libvips: .+\)/],
    ['truncated.png', /truncated\.png could not be decoded \(png\): the file is damaged or truncated/],
    ['notes.png', /notes\.png could not be read as an image: .*unsupported image format/],
    ['anim.gif', /anim\.gif is a gif image; expected PNG, JPEG or WebP/],
    ['missing.png', /missing\.png could not be read as an image: .*missing/],
  ]
  for (const [file, message] of cases) {
    const error = await t.throwsAsync(readImage(join(dir, file), { channels: 1 }), { instanceOf: ImageError, message }, file)
    t.is(error?.code, 'CONVTORCH_IMAGE')
  }
})

test('bad decode options are InvalidArgumentErrors naming the field', async (t) => {
  const file = join(dir, 'rgb.png')
  await t.throwsAsync(readImage(file, { channels: 2 as 1 }), { instanceOf: InvalidArgumentError, message: /readImage\(\): channels must be 1 \(grey\) or 3 \(RGB\), got 2/ })
  await t.throwsAsync(decodeImage(file, { channels: 1, height: 0, width: 28 }), { instanceOf: InvalidArgumentError, message: /height must be a positive integer, got 0/ })
  await t.throwsAsync(decodeImage(file, { channels: 1, height: 28, width: 28, fit: 'cover' as 'resize' }), { instanceOf: InvalidArgumentError, message: /fit must be 'resize', got 'cover'/ })
})

test('listImageFiles() keeps files as given and expands directories to their sorted images', async (t) => {
  const folder = join(dir, 'folder')
  await mkdir(join(folder, 'nested.png'), { recursive: true })
  for (const name of ['b.PNG', 'a.jpg', 'c.JPEG', 'd.webp', 'readme.txt', 'e.gif']) await writeFile(join(folder, name), '')
  const files = await listImageFiles([join(dir, 'notes.png'), folder])
  t.deepEqual(files, [join(dir, 'notes.png'), ...['a.jpg', 'b.PNG', 'c.JPEG', 'd.webp'].map((name) => join(folder, name))])
  t.deepEqual(await listImageFiles(join(dir, 'anim.gif')), [join(dir, 'anim.gif')], 'a file named directly is kept whatever its extension')
})

test('listImageFiles() refuses a missing path and a directory without images', async (t) => {
  const missing = join(dir, 'nowhere')
  await t.throwsAsync(listImageFiles([join(dir, 'rgb.png'), missing]), { instanceOf: ImageError, message: `listImageFiles(): ${missing} does not exist` })
  const empty = join(dir, 'empty')
  await mkdir(empty, { recursive: true })
  await t.throwsAsync(listImageFiles(empty), { instanceOf: ImageError, message: /directory .*empty holds no \.png, \.jpg, \.jpeg, \.webp files/ })
  await t.throwsAsync(listImageFiles([]), { instanceOf: InvalidArgumentError, message: /paths must be a path or a non-empty array of paths, got \[\]/ })
})
