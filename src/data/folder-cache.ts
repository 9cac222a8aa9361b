// The on-disk cache of a decoded image folder. One file per folder and options: a magic, a JSON
// header (the key of the file list it was decoded from, shape, classes, skipped files), then per
// split its int32 labels and its uint8 images. Written whole, then renamed into place.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { DatasetError } from '../errors'
import type { SplitName } from './folder-layout'

const MAGIC = Buffer.from('CTFOLDR1')

export interface SkippedFile {
  file: string
  message: string
}

export interface CachedSplit {
  name: SplitName
  labels: Int32Array
  images: Uint8Array
}

export interface CachedFolder {
  /** Hash of the file list (names, sizes, mtimes) and options the pixels were decoded from. */
  key: string
  shape: [number, number, number]
  classNames: string[]
  splits: CachedSplit[]
  skipped: SkippedFile[]
}

interface Header {
  key: string
  shape: [number, number, number]
  classNames: string[]
  splits: Array<{ name: SplitName; count: number }>
  skipped: SkippedFile[]
}

/** The cached folder when `path` holds one for `key`; undefined when absent or stale; DatasetError when damaged. */
export async function readFolderCache(path: string, key: string): Promise<CachedFolder | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DatasetError(`${path}: cache cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error })
  }
  const damaged = (why: string) => new DatasetError(`${path}: damaged cache file (${why})`)
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged('bad magic')
  const headerLength = bytes.readUInt32LE(MAGIC.length)
  let offset = MAGIC.length + 4 + headerLength
  if (offset > bytes.length) throw damaged('header runs past the end')
  let header: Header
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, offset).toString('utf8')) as Header
  } catch (error) {
    throw damaged(`header is not JSON: ${(error as Error).message}`)
  }
  if (header.key !== key) return undefined
  const per = header.shape[0] * header.shape[1] * header.shape[2]
  const splits: CachedSplit[] = []
  for (const { name, count } of header.splits) {
    const end = offset + count * 4 + count * per
    if (end > bytes.length) throw damaged(`split ${name} needs ${end} bytes, the file has ${bytes.length}`)
    const labels = new Int32Array(count)
    for (let i = 0; i < count; i++) labels[i] = bytes.readInt32LE(offset + 4 * i)
    // A view, not a copy: the file's buffer becomes the dataset's memory.
    const images = new Uint8Array(bytes.buffer, bytes.byteOffset + offset + count * 4, count * per)
    splits.push({ name, labels, images })
    offset = end
  }
  if (offset !== bytes.length) throw damaged(`${bytes.length - offset} bytes after the last split`)
  return { key: header.key, shape: header.shape, classNames: header.classNames, splits, skipped: header.skipped }
}

/** Writes to a temporary file beside `path`, then renames it: readers see the old file or the whole new one. */
export async function writeFolderCache(path: string, contents: CachedFolder): Promise<void> {
  const header: Header = {
    key: contents.key,
    shape: contents.shape,
    classNames: contents.classNames,
    splits: contents.splits.map((s) => ({ name: s.name, count: s.labels.length })),
    skipped: contents.skipped,
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32LE(json.length)
  const chunks: Uint8Array[] = [MAGIC, length, json]
  for (const split of contents.splits) {
    const labels = Buffer.alloc(split.labels.length * 4)
    split.labels.forEach((label, i) => labels.writeInt32LE(label, 4 * i))
    chunks.push(labels, split.images)
  }
  await mkdir(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    const handle = await open(temporary, 'w')
    try {
      for (const chunk of chunks) await handle.writeFile(chunk)
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}
