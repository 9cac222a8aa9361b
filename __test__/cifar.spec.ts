import test from 'ava'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CIFAR10_FILES, CIFAR_RECORD_BYTES, DatasetError, encodeCifarBatch, loadCifar10, loadImageFolder, parseCifarBatch, resolveData } from '../src/index'
import { scratchDirectories } from './helpers/scratch'
import { SHAPE_CLASSES, writeShapes, type ShapeImage } from './helpers/shapes-dataset'

const fresh = scratchDirectories('cifar')

function batchOf(images: ShapeImage[]): Uint8Array {
  const pixels = new Uint8Array(images.length * 3072)
  images.forEach((image, i) => pixels.set(image.pixels, i * 3072))
  return encodeCifarBatch(pixels, images.map((i) => i.label))
}

/** The images as CIFAR-10 binaries: train spread unevenly over the five batches, as given. */
async function writeCifar(dir: string, images: ShapeImage[], meta = `${SHAPE_CLASSES.join('\n')}\n\n`): Promise<void> {
  const train = images.filter((i) => i.split === 'train')
  const cuts = [0, 1, 3, 6, 10, train.length]
  for (const [k, name] of CIFAR10_FILES.train.entries()) await writeFile(join(dir, name), batchOf(train.slice(cuts[k], cuts[k + 1])))
  await writeFile(join(dir, CIFAR10_FILES.test), batchOf(images.filter((i) => i.split === 'test')))
  await writeFile(join(dir, CIFAR10_FILES.meta), meta)
}

test('the same images as a CIFAR binary file give the same dataset tensor as the image folder', async (t) => {
  const folder = await fresh('folder')
  const images = await writeShapes({ dir: folder, perClass: { train: 5, test: 2 }, format: 'png' })
  const cifar = await fresh('cifar')
  await writeCifar(cifar, images)
  const fromFolder = await loadImageFolder(folder, { cache: false })
  const fromCifar = await loadCifar10(cifar)
  t.deepEqual(fromCifar.classNames, [...SHAPE_CLASSES], 'the trailing empty lines of batches.meta.txt are ignored')
  for (const split of ['train', 'test'] as const) {
    const a = fromFolder[split]!
    const b = fromCifar[split]
    t.deepEqual(b.shape, [3, 32, 32])
    t.deepEqual(Array.from(b.labels), Array.from(a.labels), split)
    t.true(Buffer.from(b.images).equals(Buffer.from(a.images)), `${split} pixels are byte for byte the same`)
  }
  t.is(fromCifar.train.count, 15)
  const resolved = await resolveData(cifar)
  t.like(resolved, { format: 'cifar-10', source: cifar, classNames: [...SHAPE_CLASSES] })
  t.is(resolved.test.count, 6)
})

test('a batch file round-trips through encodeCifarBatch and parseCifarBatch', (t) => {
  const pixels = Uint8Array.from({ length: 2 * 3072 }, (_, i) => (i * 31) % 256)
  const bytes = encodeCifarBatch(pixels, [7, 2])
  t.is(bytes.length, 2 * CIFAR_RECORD_BYTES)
  t.is(bytes[0], 7)
  t.is(bytes[CIFAR_RECORD_BYTES], 2)
  const parsed = parseCifarBatch(bytes, 'x.bin', 10)
  t.deepEqual(Array.from(parsed.labels), [7, 2])
  t.deepEqual(parsed.images, pixels)
})

test('a file whose length is not a whole number of records names the file, its size and the record size', async (t) => {
  const dir = await fresh('short')
  const images = await writeShapes({ dir: await fresh('src'), perClass: { train: 4, test: 1 }, format: 'png' })
  await writeCifar(dir, images)
  await writeFile(join(dir, 'data_batch_3.bin'), new Uint8Array(3073 * 2 + 100))
  await t.throwsAsync(loadCifar10(dir), { instanceOf: DatasetError, message: /data_batch_3\.bin: 6246 bytes is not a whole number of 3073-byte records \(1 label byte \+ 3x32x32 pixels\)/ })
  await writeFile(join(dir, 'data_batch_3.bin'), new Uint8Array(0))
  await t.throwsAsync(loadCifar10(dir), { instanceOf: DatasetError, message: /data_batch_3\.bin: 0 bytes is not a whole number/ })
})

test('a label past the class names is refused, naming the file and the record', async (t) => {
  const dir = await fresh('label')
  const images = await writeShapes({ dir: await fresh('src'), perClass: { train: 4, test: 1 }, format: 'png' })
  await writeCifar(dir, images)
  const bad = batchOf(images.filter((i) => i.split === 'test'))
  bad[CIFAR_RECORD_BYTES * 2] = 3
  await writeFile(join(dir, 'test_batch.bin'), bad)
  await t.throwsAsync(loadCifar10(dir), { instanceOf: DatasetError, message: /test_batch\.bin: record 2 has label 3, expected a class index below 3/ })
})

test('missing files are named, all of them; a damaged batches.meta.txt is refused', async (t) => {
  const dir = await fresh('missing')
  const images = await writeShapes({ dir: await fresh('src'), perClass: { train: 4, test: 1 }, format: 'png' })
  await writeCifar(dir, images)
  await rm(join(dir, 'data_batch_2.bin'))
  await rm(join(dir, 'test_batch.bin'))
  await t.throwsAsync(loadCifar10(dir), { instanceOf: DatasetError, message: /is missing data_batch_2\.bin, test_batch\.bin of the CIFAR-10 binary files/ })
  await t.throwsAsync(resolveData(dir), { instanceOf: DatasetError, message: /is missing data_batch_2\.bin, test_batch\.bin/ }, 'resolveData names a partial copy instead of trying other layouts')
  const meta = await fresh('meta')
  await writeCifar(meta, images, 'circle\n\nsquare\n')
  await t.throwsAsync(loadCifar10(meta), { instanceOf: DatasetError, message: /batches\.meta\.txt: line 2 is empty; expected one class name per line/ })
  await writeCifar(meta, images, 'circle\r\n')
  await t.throwsAsync(loadCifar10(meta), { instanceOf: DatasetError, message: /batches\.meta\.txt: 1 class names, expected at least 2/ })
})
