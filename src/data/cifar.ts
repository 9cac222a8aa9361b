// CIFAR-10's binary version: data_batch_1.bin ... data_batch_5.bin and test_batch.bin, each a run
// of 3073-byte records (a label byte, then 32x32 red, green and blue planes), and
// batches.meta.txt naming the classes, one per line.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetError } from '../errors'
import { Dataset } from './dataset'

export const CIFAR_SHAPE: [number, number, number] = [3, 32, 32]
export const CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32

export const CIFAR10_FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: 'test_batch.bin',
  meta: 'batches.meta.txt',
} as const

export interface CifarRecords {
  /** [count, 3, 32, 32] planar bytes. */
  images: Uint8Array
  labels: Int32Array
}

/** Parses one batch file's bytes; `name` is used in error messages. */
export function parseCifarBatch(bytes: Uint8Array, name: string, classes: number): CifarRecords {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DatasetError(`${name}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte records (1 label byte + 3x32x32 pixels)`)
  }
  const count = bytes.length / CIFAR_RECORD_BYTES
  const per = CIFAR_RECORD_BYTES - 1
  const images = new Uint8Array(count * per)
  const labels = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const at = i * CIFAR_RECORD_BYTES
    if (bytes[at] >= classes) throw new DatasetError(`${name}: record ${i} has label ${bytes[at]}, expected a class index below ${classes} (the classes of batches.meta.txt)`)
    labels[i] = bytes[at]
    images.set(bytes.subarray(at + 1, at + CIFAR_RECORD_BYTES), i * per)
  }
  return { images, labels }
}

/** Class names, one per line; trailing empty lines (and CRs) ignored, an empty line among them refused. */
export function parseCifarMeta(text: string, name: string): string[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, '').trim())
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const empty = lines.indexOf('')
  if (empty >= 0) throw new DatasetError(`${name}: line ${empty + 1} is empty; expected one class name per line`)
  if (lines.length < 2) throw new DatasetError(`${name}: ${lines.length} class names, expected at least 2`)
  return lines
}

/** Encodes records as a CIFAR batch file (for tests, and for exporting a dataset of 3x32x32 bytes). */
export function encodeCifarBatch(images: Uint8Array, labels: ArrayLike<number>): Uint8Array {
  const per = CIFAR_RECORD_BYTES - 1
  if (images.length !== labels.length * per) throw new DatasetError(`encodeCifarBatch(): ${images.length} bytes of images for ${labels.length} labels, expected ${labels.length * per}`)
  const bytes = new Uint8Array(labels.length * CIFAR_RECORD_BYTES)
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] > 255) throw new DatasetError(`encodeCifarBatch(): label ${i} is ${labels[i]}, expected a byte`)
    bytes[i * CIFAR_RECORD_BYTES] = labels[i]
    bytes.set(images.subarray(i * per, (i + 1) * per), i * CIFAR_RECORD_BYTES + 1)
  }
  return bytes
}

/** Whether `dir` looks like CIFAR-10 binaries (any of its files), so a partial copy is named, not ignored. */
export function isCifarDirectory(dir: string): boolean {
  return [...CIFAR10_FILES.train, CIFAR10_FILES.test, CIFAR10_FILES.meta].some((name) => existsSync(join(dir, name)))
}

async function read(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new DatasetError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error })
  }
}

function concat(parts: CifarRecords[]): CifarRecords {
  const images = new Uint8Array(parts.reduce((n, p) => n + p.images.length, 0))
  const labels = new Int32Array(parts.reduce((n, p) => n + p.labels.length, 0))
  let at = 0
  for (const part of parts) {
    images.set(part.images, at * (CIFAR_RECORD_BYTES - 1))
    labels.set(part.labels, at)
    at += part.labels.length
  }
  return { images, labels }
}

/** The five training batches, the test batch and the class names of a CIFAR-10 binary directory. */
export async function loadCifar10(dir: string): Promise<{ train: Dataset; test: Dataset; classNames: string[] }> {
  const names = [...CIFAR10_FILES.train, CIFAR10_FILES.test, CIFAR10_FILES.meta]
  const missing = names.filter((name) => !existsSync(join(dir, name)))
  if (missing.length > 0) throw new DatasetError(`${dir} is missing ${missing.join(', ')} of the CIFAR-10 binary files (${names.join(', ')})`)
  const metaPath = join(dir, CIFAR10_FILES.meta)
  const classNames = parseCifarMeta((await read(metaPath)).toString('utf8'), metaPath)
  const batch = async (name: string) => parseCifarBatch(await read(join(dir, name)), join(dir, name), classNames.length)
  const train = concat(await Promise.all(CIFAR10_FILES.train.map(batch)))
  const test = await batch(CIFAR10_FILES.test)
  const dataset = (records: CifarRecords) => Dataset.fromArrays({ ...records, shape: CIFAR_SHAPE, classes: classNames.length })
  return { train: dataset(train), test: dataset(test), classNames }
}
