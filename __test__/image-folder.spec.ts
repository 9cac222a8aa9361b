import test from 'ava'
import { copyFile, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { DatasetError, ImageError, InvalidArgumentError, loadImageFolder, resolveData, type ImageFolderOptions } from '../src/index'
import { scratchDirectories } from './helpers/scratch'
import { SHAPE_CLASSES, writeShapes } from './helpers/shapes-dataset'

const fresh = scratchDirectories('folder')

function recording(cacheDir: string, extra: ImageFolderOptions = {}) {
  const progress: Array<[number, number]> = []
  const warnings: string[] = []
  const options: ImageFolderOptions = { cacheDir, onProgress: (done, total) => progress.push([done, total]), onWarning: (w) => warnings.push(w), ...extra }
  return { progress, warnings, options }
}

test('train/ and test/ with PNG and JPEG: sorted class names, RGB [3, 32, 32] bytes, labels class by class', async (t) => {
  const dir = await fresh('splits')
  const images = await writeShapes({ dir, perClass: { train: 6, test: 2 } })
  const { progress, options } = recording(await fresh('cache'))
  const data = await loadImageFolder(dir, options)
  t.deepEqual(data.classNames, [...SHAPE_CLASSES])
  t.is(data.layout, 'splits')
  t.false(data.fromCache)
  t.is(data.validation, undefined)
  t.deepEqual(data.train.shape, [3, 32, 32])
  t.true(data.train.images instanceof Uint8Array)
  t.is(data.train.count, 18)
  t.is(data.test?.count, 6)
  t.deepEqual(Array.from(data.train.labels), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2])
  t.deepEqual(progress.at(-1), [24, 24])
  t.is(progress.length, 24)
  // PNGs decode to exactly what was drawn; JPEGs only near it.
  const per = 3 * 32 * 32
  const train = images.filter((i) => i.split === 'train')
  train.forEach((image, k) => {
    const got = (data.train.images as Uint8Array).subarray(k * per, (k + 1) * per)
    if (image.file.endsWith('.png')) t.deepEqual(Buffer.from(got), Buffer.from(image.pixels), image.file)
    else t.true(got.reduce((s: number, v: number, i: number) => s + Math.abs(v - image.pixels[i]), 0) / per < 12, image.file)
  })
})

test('DIR/<class>/ is one split; val/ serves as test, or as validation beside test/', async (t) => {
  const cacheDir = await fresh('cache')
  const classes = await fresh('classes')
  await writeShapes({ dir: classes, perClass: { train: 3 }, layout: 'classes' })
  const one = await loadImageFolder(classes, { cacheDir })
  t.like(one, { layout: 'classes', test: undefined, classNames: [...SHAPE_CLASSES] })
  t.is(one.train.count, 9)
  const val = await fresh('val')
  await writeShapes({ dir: val, perClass: { train: 2, val: 1 } })
  const withVal = await loadImageFolder(val, { cacheDir })
  t.is(withVal.test?.count, 3)
  t.is(withVal.validation, undefined)
  const both = await fresh('both')
  await writeShapes({ dir: both, perClass: { train: 2, test: 1, val: 2 } })
  const all = await loadImageFolder(both, { cacheDir })
  t.is(all.test?.count, 3)
  t.is(all.validation?.count, 6)
})

test('class names are sorted by code unit, as Python sorts; hidden folders and other files are ignored', async (t) => {
  const dir = await fresh('names')
  for (const name of ['b', 'a9', 'B', 'a10', '.ipynb_checkpoints']) {
    await mkdir(join(dir, name), { recursive: true })
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } }).png().toFile(join(dir, name, 'x.png'))
  }
  await writeFile(join(dir, 'b', 'README.txt'), 'not an image')
  const data = await loadImageFolder(dir, { cache: false })
  t.deepEqual(data.classNames, ['B', 'a10', 'a9', 'b'])
  t.is(data.train.count, 4)
})

test('test/ with other classes than train/ is a DatasetError naming both sides', async (t) => {
  const dir = await fresh('classes-differ')
  await writeShapes({ dir, perClass: { train: 1, test: 1 } })
  await rm(join(dir, 'test', 'square'), { recursive: true })
  await mkdir(join(dir, 'test', 'star'))
  await copyFile(join(dir, 'train', 'circle', '00000.png'), join(dir, 'test', 'star', 'a.png'))
  await t.throwsAsync(loadImageFolder(dir, { cache: false }), { instanceOf: DatasetError, message: /test lacks square and has star not in .*train; the class folders of every split must be the same/ })
})

test('grey files give 1 channel by default; channels overrides either way', async (t) => {
  const dir = await fresh('grey')
  for (const [name, level] of [['dark', 10], ['light', 240]] as const) {
    await mkdir(join(dir, name))
    // toColourspace('b-w'): without it sharp writes a grey raw buffer as an RGB PNG.
    await sharp(Buffer.from([level, level + 5, level, level + 5]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, name, '1.png'))
  }
  const grey = await loadImageFolder(dir, { cache: false })
  t.deepEqual(grey.train.shape, [1, 2, 2])
  t.deepEqual(Array.from(grey.train.images), [10, 15, 10, 15, 240, 245, 240, 245])
  const rgb = await loadImageFolder(dir, { cache: false, channels: 3 })
  t.deepEqual(rgb.train.shape, [3, 2, 2])
  t.deepEqual(Array.from(rgb.train.images.subarray(0, 12)), [10, 15, 10, 15, 10, 15, 10, 15, 10, 15, 10, 15])
  // One colour file among grey ones makes the folder RGB, the grey files repeated in three planes.
  await sharp({ create: { width: 2, height: 2, channels: 3, background: '#ff0000' } }).png().toFile(join(dir, 'light', '2.png'))
  const mixed = await loadImageFolder(dir, { cache: false })
  t.deepEqual(mixed.train.shape, [3, 2, 2])
  t.deepEqual(Array.from(mixed.train.images.subarray(0, 12)), [10, 15, 10, 15, 10, 15, 10, 15, 10, 15, 10, 15])
  t.deepEqual(Array.from(mixed.train.images.subarray(24, 36)), [255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0])
  const shapes = await fresh('shapes-grey')
  await writeShapes({ dir: shapes, perClass: { train: 1 }, layout: 'classes' })
  t.deepEqual((await loadImageFolder(shapes, { cache: false, channels: 1 })).train.shape, [1, 32, 32])
})

test('a mixed-size folder is a DatasetError naming the file and both sizes, unless resize', async (t) => {
  const dir = await fresh('mixed')
  await writeShapes({ dir, perClass: { train: 2 }, layout: 'classes', format: 'png' })
  await sharp({ create: { width: 40, height: 24, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'square', 'odd.png'))
  await t.throwsAsync(loadImageFolder(dir, { cache: false }), {
    instanceOf: DatasetError,
    message: /square\/odd\.png is 24x40 but the first image, .*circle\/00000\.png, is 32x32; pass resize: true/,
  })
  await t.throwsAsync(loadImageFolder(dir, { cache: false, imageSize: [16, 16] }), { instanceOf: DatasetError, message: /circle\/00000\.png is 32x32 but imageSize is 16x16/ })
  const resized = await loadImageFolder(dir, { cache: false, resize: true })
  t.is(resized.train.count, 7)
  t.deepEqual(resized.train.shape, [3, 32, 32])
  // The grey odd one out, stretched, is still flat grey.
  const odd = 4
  t.true(resized.train.images.subarray(odd * 3072, (odd + 1) * 3072).every((v) => v === 128))
  t.deepEqual((await loadImageFolder(dir, { cache: false, resize: true, imageSize: [8, 12] })).train.shape, [3, 8, 12])
})

test('a corrupt file is an ImageError naming it; skipBadImages skips it with a warning', async (t) => {
  const dir = await fresh('corrupt')
  await writeShapes({ dir, perClass: { train: 3 }, layout: 'classes' })
  // Noise at quality 100: the cut falls in the scan data, past the header that the size is read from.
  const noise = Buffer.from(Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7919) % 251))
  const jpeg = await sharp(noise, { raw: { width: 32, height: 32, channels: 3 } }).jpeg({ quality: 100 }).toBuffer()
  await writeFile(join(dir, 'circle', 'truncated.jpg'), jpeg.subarray(0, Math.round(jpeg.length * 0.7)))
  await writeFile(join(dir, 'triangle', 'notes.png'), 'these are notes, not pixels')
  // Files in flight when one fails still finish: the error names the first bad file in order, every run.
  await t.throwsAsync(loadImageFolder(dir, { cache: false }), { instanceOf: ImageError, message: /circle\/truncated\.jpg could not be decoded \(jpeg\): the file is damaged or truncated/ })
  const { warnings, options } = recording(await fresh('cache'), { skipBadImages: true })
  const data = await loadImageFolder(dir, options)
  t.is(data.train.count, 9)
  t.deepEqual(Array.from(data.train.labels), [0, 0, 0, 1, 1, 1, 2, 2, 2])
  t.is(warnings.length, 2)
  t.regex(warnings[0], /^skipped a bad image: .*circle\/truncated\.jpg could not be decoded/)
  t.regex(warnings[1], /^skipped a bad image: .*triangle\/notes\.png could not be read as an image/)
  // A cached load repeats the warnings: the folder still holds those files.
  const again = recording(options.cacheDir!, { skipBadImages: true })
  t.true((await loadImageFolder(dir, again.options)).fromCache)
  t.deepEqual(again.warnings, warnings)
  await rm(join(dir, 'circle', 'truncated.jpg'))
  await t.throwsAsync(loadImageFolder(dir, { cache: false }), { instanceOf: ImageError, message: /triangle\/notes\.png could not be read as an image: .*unsupported image format/ })
})

test('a second load of an unchanged folder is served from the cache; a touched or added file decodes again', async (t) => {
  const dir = await fresh('cached')
  await writeShapes({ dir, perClass: { train: 4, test: 2 } })
  const cacheDir = await fresh('cache')
  const first = recording(cacheDir)
  const decoded = await loadImageFolder(dir, first.options)
  t.is(first.progress.length, 18)
  const cacheFiles = await readdir(join(cacheDir, 'image-folders'))
  t.is(cacheFiles.length, 1)
  t.regex(cacheFiles[0], /^[0-9a-f]{24}\.bin$/, 'no temporary file is left behind')

  const second = recording(cacheDir)
  const cached = await loadImageFolder(dir, second.options)
  t.true(cached.fromCache)
  t.deepEqual(second.progress, [], 'nothing decoded')
  t.deepEqual(Buffer.from(cached.train.images), Buffer.from(decoded.train.images))
  t.deepEqual(cached.train.labels, decoded.train.labels)
  t.deepEqual(Buffer.from(cached.test!.images), Buffer.from(decoded.test!.images))
  t.deepEqual(cached.classNames, decoded.classNames)

  await utimes(join(dir, 'train', 'square', '00001.jpg'), new Date(2001, 1, 1), new Date(2001, 1, 1))
  const touched = recording(cacheDir)
  t.false((await loadImageFolder(dir, touched.options)).fromCache)
  t.is(touched.progress.length, 18)
  t.true((await loadImageFolder(dir, { cacheDir })).fromCache, 'the new state is cached in turn')

  await copyFile(join(dir, 'train', 'square', '00000.png'), join(dir, 'train', 'square', '00009.png'))
  const added = recording(cacheDir)
  const grown = await loadImageFolder(dir, added.options)
  t.false(grown.fromCache)
  t.is(grown.train.count, 13)
  t.deepEqual(await readdir(join(cacheDir, 'image-folders')), cacheFiles, 'the entry is replaced, not added to')

  // Other options are another entry: channels changes the pixels.
  t.false((await loadImageFolder(dir, { cacheDir, channels: 1 })).fromCache)
  t.false((await loadImageFolder(dir, { cacheDir, cache: false })).fromCache)
})

test('a damaged cache file is a warning, then the folder is decoded again', async (t) => {
  const dir = await fresh('damaged')
  await writeShapes({ dir, perClass: { train: 2 }, layout: 'classes' })
  const cacheDir = await fresh('cache')
  await loadImageFolder(dir, { cacheDir })
  const [name] = await readdir(join(cacheDir, 'image-folders'))
  await writeFile(join(cacheDir, 'image-folders', name), 'CTFOLDR1 but then nothing')
  const { warnings, progress, options } = recording(cacheDir)
  const data = await loadImageFolder(dir, options)
  t.false(data.fromCache)
  t.is(progress.length, 6)
  t.regex(warnings[0], /damaged cache file .*; decoding the folder again/)
  t.true((await loadImageFolder(dir, { cacheDir })).fromCache)
})

test('resolveData() recognises both layouts; a one-split folder holds out a stratified test split', async (t) => {
  const cacheDir = await fresh('cache')
  const splits = await fresh('resolve-splits')
  await writeShapes({ dir: splits, perClass: { train: 2, test: 1 } })
  const a = await resolveData(splits, { cacheDir })
  t.like(a, { format: 'image-folder', source: splits, classNames: [...SHAPE_CLASSES] })
  t.is(a.test.count, 3)
  const classes = await fresh('resolve-classes')
  await writeShapes({ dir: classes, perClass: { train: 10 }, layout: 'classes' })
  const b = await resolveData(classes, { cacheDir, testFraction: 0.3, seed: 4, imageFolder: { channels: 1 } })
  t.is(b.train.count, 21)
  t.deepEqual(Array.from(b.test.labels), [0, 0, 0, 1, 1, 1, 2, 2, 2])
  t.deepEqual(b.test.shape, [1, 32, 32])
  t.regex(b.source, /30% of each class held out as the test split, seed 4/)
})

test('resolveData() on a directory of no known layout lists the layouts it looked for', async (t) => {
  const dir = await fresh('unknown')
  await writeFile(join(dir, 'data.csv'), '1,2,3')
  await t.throwsAsync(resolveData(dir), {
    instanceOf: DatasetError,
    message: /is a directory of none of the known layouts; looked for: MNIST IDX files .*, CIFAR-10 binaries \(data_batch_1\.bin.*\), an image folder \(DIR\/<class>\/\*\.png\|jpg\|jpeg\|webp, or DIR\/train\/<class>/,
  })
})

test('bad options are InvalidArgumentErrors naming the field', async (t) => {
  const dir = await fresh('options')
  await t.throwsAsync(loadImageFolder(dir, { imageSize: [0, 4] }), { instanceOf: InvalidArgumentError, message: /loadImageFolder\(\): imageSize must be \[height, width\] of positive integers, got \[0, 4\]/ })
  await t.throwsAsync(loadImageFolder(dir, { channels: 4 as 3 }), { instanceOf: InvalidArgumentError, message: /channels must be 1 \(grey\) or 3 \(RGB\), got 4/ })
  await t.throwsAsync(loadImageFolder(dir, { concurrency: 0 }), { instanceOf: InvalidArgumentError, message: /concurrency must be a positive integer, got 0/ })
  await t.throwsAsync(loadImageFolder(dir), { instanceOf: DatasetError, message: /is not an image folder: no subfolder holds images/ })
})
