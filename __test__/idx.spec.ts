import test from 'ava'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Dataset, DatasetError, encodeIdx, parseIdx } from '../src/index'
import { mnist } from './helpers/mnist'

const images = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 10)
const labels = Uint8Array.of(0, 9, 4)

test('parseIdx() reads the dims and bytes that encodeIdx() wrote, raw and gzipped', (t) => {
  const raw = encodeIdx([3, 2, 2], images)
  t.deepEqual(Array.from(raw.subarray(0, 8)), [0, 0, 8, 3, 0, 0, 0, 3])
  for (const bytes of [raw, gzipSync(raw)]) {
    const parsed = parseIdx(bytes)
    t.deepEqual(parsed.dims, [3, 2, 2])
    t.deepEqual(Array.from(parsed.data), Array.from(images))
  }
})

test('parseIdx() refuses a bad magic number, an unsupported type, a short file and a size mismatch', (t) => {
  const good = encodeIdx([3, 2, 2], images)
  const badMagic = Uint8Array.from(good)
  badMagic[0] = 1
  t.throws(() => parseIdx(badMagic, 'f'), { instanceOf: DatasetError, message: /f: bad magic number 0x01000803/ })
  const floats = Uint8Array.from(good)
  floats[2] = 0x0d
  t.throws(() => parseIdx(floats, 'f'), { instanceOf: DatasetError, message: /element type 0x0d \(float\) is not supported/ })
  t.throws(() => parseIdx(Uint8Array.of(0, 0), 'f'), { instanceOf: DatasetError, message: /too short/ })
  t.throws(() => parseIdx(good.subarray(0, good.length - 1), 'f'), { instanceOf: DatasetError, message: /dimensions 3x2x2 need 12 bytes of data, the file has 11/ })
  t.throws(() => parseIdx(good.subarray(0, 10), 'f'), { instanceOf: DatasetError, message: /header declares 3 dimensions/ })
  t.throws(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 1, 2, 3), 'f'), { instanceOf: DatasetError, message: /gzip data is corrupt/ })
})

async function writeIdxPair(imageDims: number[], imageBytes: Uint8Array, labelBytes: Uint8Array) {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-idx-'))
  await writeFile(join(dir, 'images'), encodeIdx(imageDims, imageBytes))
  await writeFile(join(dir, 'labels'), gzipSync(encodeIdx([labelBytes.length], labelBytes)))
  return { images: join(dir, 'images'), labels: join(dir, 'labels') }
}

test('Dataset.fromIdx() pairs an images file with a gzipped labels file', async (t) => {
  const files = await writeIdxPair([3, 2, 2], images, labels)
  const dataset = await Dataset.fromIdx(files.images, files.labels)
  t.is(dataset.count, 3)
  t.deepEqual(dataset.shape, [1, 2, 2])
  t.deepEqual(Array.from(dataset.labels), [0, 9, 4])
})

test('Dataset.fromIdx() refuses counts that disagree and labels beyond the classes', async (t) => {
  const mismatched = await writeIdxPair([3, 2, 2], images, Uint8Array.of(1, 2))
  await t.throwsAsync(Dataset.fromIdx(mismatched.images, mismatched.labels), { instanceOf: DatasetError, message: /holds 3 images but .* holds 2 labels/ })
  const outOfRange = await writeIdxPair([3, 2, 2], images, Uint8Array.of(1, 2, 10))
  await t.throwsAsync(Dataset.fromIdx(outOfRange.images, outOfRange.labels), { instanceOf: DatasetError, message: /label 2 is 10, expected a class index below 10/ })
  await t.throwsAsync(Dataset.fromIdx('/nonexistent/images', outOfRange.labels), { instanceOf: DatasetError, message: /cannot be read \(ENOENT\)/ })
})

test('the bundled MNIST has 60,000 + 10,000 28x28 images and balanced labels', async (t) => {
  const { train, test: testSet } = await mnist()
  t.is(train.count, 60000)
  t.is(testSet.count, 10000)
  t.deepEqual(train.shape, [1, 28, 28])
  const counts = Array.from({ length: 10 }, () => 0)
  for (const label of testSet.labels) counts[label]++
  t.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
})

test('a gzip file that expands past what its IDX header declares is refused without inflating it', (t) => {
  // 100 KB of compressed zeros that would become 100 MB; the header says 10 bytes of data.
  const header = encodeIdx([10], new Uint8Array(0))
  const bomb = gzipSync(Buffer.concat([header, Buffer.alloc(100 << 20)]), { level: 9 })
  t.true(bomb.length < 200_000, `${bomb.length} compressed bytes`)
  const error = t.throws(() => parseIdx(bomb, 'bomb.gz'), { instanceOf: DatasetError })
  t.is(error!.message, 'bomb.gz: decompresses to more bytes than its IDX header declares; refused (a damaged file or a gzip bomb)')
  const honest = gzipSync(encodeIdx([10], new Uint8Array(10).fill(7)))
  t.deepEqual(Array.from(parseIdx(honest).data), Array(10).fill(7))
})
