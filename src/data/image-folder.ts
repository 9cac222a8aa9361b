// Image folders as datasets: every file decoded once (in parallel, on libuv's pool) into one
// uint8 [count, channels, height, width] array per split, and cached on disk under a key of the
// folder's file list, sizes and mtimes, so an unchanged folder is read back instead of decoded.
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { DatasetError, ImageError, invalidArgument } from '../errors'
import { decoderVersion, probeImage, readImageBytes, type Channels } from '../image/decode'
import { forEachBounded } from './bounded'
import { defaultCacheDir } from './cache-dir'
import { Dataset } from './dataset'
import { readFolderCache, writeFolderCache, type CachedFolder, type CachedSplit, type SkippedFile } from './folder-cache'
import { listImageFolder, type FolderListing } from './folder-layout'

export interface ImageFolderOptions {
  /** [height, width]; default: the first image's size (the first file of the first class of train). */
  imageSize?: [number, number]
  /** Stretch images of another size to imageSize (aspect ratio not kept); default false: they are an error. */
  resize?: boolean
  /** Default: 3 when any file's header has colour bands (RGB, palette, CMYK; pixels are not inspected), else 1. */
  channels?: Channels
  /** Skip unreadable, truncated and non-image files, telling onWarning; default false: they throw ImageError. */
  skipBadImages?: boolean
  /** Files decoded so far, of all; called after each file (not on a cache hit). */
  onProgress?: (done: number, total: number) => void
  onWarning?: (message: string) => void
  /** Default: defaultCacheDir(); the cache lives in its image-folders/ subfolder. */
  cacheDir?: string
  /** Default true; false neither reads nor writes the cache. */
  cache?: boolean
  /** Files in flight at once; default os.availableParallelism() * 2. */
  concurrency?: number
}

export interface ImageFolderData {
  train: Dataset
  /** Absent for the one-split layout DIR/<class>/... */
  test?: Dataset
  /** val/ beside test/ */
  validation?: Dataset
  /** Sorted; label i is classNames[i]. */
  classNames: string[]
  layout: FolderListing['layout']
  source: string
  /** True when the pixels were read back from the cache rather than decoded. */
  fromCache: boolean
}

interface Settings {
  imageSize?: [number, number]
  resize: boolean
  channels?: Channels
  skipBadImages: boolean
  onProgress?: (done: number, total: number) => void
  onWarning: (message: string) => void
  cacheDir?: string
  concurrency: number
}

function checkOptions(context: string, options: ImageFolderOptions): Settings {
  const { imageSize, channels } = options
  if (imageSize !== undefined && (!Array.isArray(imageSize) || imageSize.length !== 2 || !imageSize.every((d) => Number.isInteger(d) && d > 0))) {
    throw invalidArgument(context, 'imageSize', imageSize, '[height, width] of positive integers')
  }
  if (channels !== undefined && channels !== 1 && channels !== 3) throw invalidArgument(context, 'channels', channels, '1 (grey) or 3 (RGB)')
  for (const field of ['resize', 'skipBadImages', 'cache'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'boolean') throw invalidArgument(context, field, options[field], 'true or false')
  }
  for (const field of ['onProgress', 'onWarning'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'function') throw invalidArgument(context, field, options[field], 'a function')
  }
  if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir === '')) throw invalidArgument(context, 'cacheDir', options.cacheDir, 'a directory path')
  const concurrency = options.concurrency ?? availableParallelism() * 2
  if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidArgument(context, 'concurrency', options.concurrency, 'a positive integer')
  return {
    imageSize: imageSize && [imageSize[0], imageSize[1]],
    resize: options.resize ?? false,
    channels,
    skipBadImages: options.skipBadImages ?? false,
    onProgress: options.onProgress,
    onWarning: options.onWarning ?? (() => {}),
    cacheDir: options.cache === false ? undefined : (options.cacheDir ?? defaultCacheDir()),
    concurrency,
  }
}

/** What the decoded pixels depend on besides the files: a change of any gives another cache key. */
function decodeOptions(settings: Settings) {
  const { imageSize, resize, channels, skipBadImages } = settings
  return { imageSize: imageSize ?? null, resize, channels: channels ?? null, skipBadImages }
}

async function contentKey(dir: string, listing: FolderListing, settings: Settings): Promise<string> {
  const files = listing.splits.flatMap((s) => s.files.map((file) => ({ split: s.name, file })))
  const stamps: string[] = Array.from({ length: files.length }, () => '')
  await forEachBounded(files, 64, async ({ split, file }, i) => {
    const { size, mtimeMs } = await stat(file)
    stamps[i] = `${split}\0${relative(dir, file)}\0${size}\0${mtimeMs}`
  })
  const hash = createHash('sha256')
  hash.update(JSON.stringify({ format: 1, decoder: decoderVersion(), options: decodeOptions(settings), layout: listing.layout, classNames: listing.classNames }))
  for (const stamp of stamps) hash.update(`${stamp}\n`)
  return hash.digest('hex')
}

function cachePath(cacheDir: string, dir: string, settings: Settings): string {
  // One file per folder and options: a changed folder overwrites its entry instead of adding one.
  const name = createHash('sha256').update(JSON.stringify([resolve(dir), decodeOptions(settings)])).digest('hex').slice(0, 24)
  return join(cacheDir, 'image-folders', `${name}.bin`)
}

interface Entry {
  file: string
  split: number
  slot: number
}

/** The size every image must have (or is stretched to): imageSize, else the first readable file's. */
async function targetSize(entries: Entry[], settings: Settings, tolerate: (index: number, error: unknown) => void): Promise<{ size: [number, number]; from: string }> {
  if (settings.imageSize) return { size: settings.imageSize, from: 'imageSize' }
  for (const [i, { file }] of entries.entries()) {
    try {
      const info = await probeImage(file)
      return { size: [info.height, info.width], from: `the first image, ${file},` }
    } catch (error) {
      tolerate(i, error)
    }
  }
  throw new DatasetError(`none of the ${entries.length} files could be read as an image`)
}

/** Keeps plane 0 of each example: a grey file decoded as sRGB has three equal planes. */
function firstPlanes(images: Uint8Array, count: number, plane: number): Uint8Array {
  const out = new Uint8Array(count * plane)
  for (let i = 0; i < count; i++) out.set(images.subarray(3 * i * plane, (3 * i + 1) * plane), i * plane)
  return out
}

async function decodeFolder(listing: FolderListing, settings: Settings, key: string): Promise<CachedFolder> {
  const entries: Entry[] = listing.splits.flatMap((s, split) => s.files.map((file, slot) => ({ file, split, slot })))
  const bad = new Map<number, ImageError>()
  const tolerate = (index: number, error: unknown) => {
    if (!(error instanceof ImageError) || !settings.skipBadImages) throw error
    bad.set(index, error)
  }
  const { size, from } = await targetSize(entries, settings, tolerate)
  const [height, width] = size
  // Without a channels option every file is decoded as RGB, and the planes are folded back to
  // one when no file's header has colour: one pass over the files, not a header pass first.
  const channels: Channels = settings.channels ?? 3
  const per = channels * height * width
  const images = listing.splits.map((s) => new Uint8Array(s.files.length * per))
  let colour = false
  let done = 0
  await forEachBounded(entries, settings.concurrency, async ({ file, split, slot }, i) => {
    if (!bad.has(i)) {
      try {
        const decoded = await readImageBytes(file, settings.resize ? { channels, height, width } : { channels })
        if (decoded.height !== height || decoded.width !== width) {
          throw new DatasetError(`${file} is ${decoded.height}x${decoded.width} but ${from} is ${height}x${width}; pass resize: true (--resize) to stretch every image to one size`)
        }
        colour ||= decoded.source.colour
        images[split].set(decoded.bytes, slot * per)
      } catch (error) {
        tolerate(i, error)
      }
    }
    settings.onProgress?.(++done, entries.length)
  })
  const grey = settings.channels === undefined && !colour
  let offset = 0
  const splits: CachedSplit[] = listing.splits.map((s, split) => {
    const start = offset
    offset += s.files.length
    const kept = s.files.map((_, slot) => slot).filter((slot) => !bad.has(start + slot))
    const pixels = grey ? firstPlanes(images[split], s.files.length, height * width) : images[split]
    return compact(s.name, pixels, s.labels, kept, grey ? per / 3 : per)
  })
  const skipped: SkippedFile[] = [...bad.keys()].sort((a, b) => a - b).map((i) => ({ file: entries[i].file, message: bad.get(i)!.message }))
  return { key, shape: [grey ? 1 : channels, height, width], classNames: listing.classNames, splits, skipped }
}

/** Moves the kept examples to the front, in place. */
function compact(name: CachedSplit['name'], images: Uint8Array, labels: Int32Array, kept: number[], per: number): CachedSplit {
  if (kept.length === labels.length) return { name, labels, images }
  kept.forEach((slot, i) => images.copyWithin(i * per, slot * per, (slot + 1) * per))
  return { name, labels: Int32Array.from(kept, (slot) => labels[slot]), images: images.subarray(0, kept.length * per) }
}

function toResult(dir: string, listing: FolderListing, contents: CachedFolder, fromCache: boolean): ImageFolderData {
  const datasets: Partial<Record<CachedSplit['name'], Dataset>> = {}
  for (const split of contents.splits) {
    if (split.labels.length === 0) throw new DatasetError(`${listing.splits.find((s) => s.name === split.name)?.dir ?? dir}: every image of the ${split.name} split was skipped`)
    datasets[split.name] = Dataset.fromArrays({ images: split.images, labels: split.labels, shape: contents.shape, classes: contents.classNames.length })
  }
  return { train: datasets.train!, test: datasets.test, validation: datasets.validation, classNames: contents.classNames, layout: listing.layout, source: dir, fromCache }
}

/** Loads an already listed folder (resolveData lists it to recognise it). */
export async function loadListedFolder(dir: string, listing: FolderListing, options: ImageFolderOptions = {}): Promise<ImageFolderData> {
  const settings = checkOptions('loadImageFolder()', options)
  const key = await contentKey(dir, listing, settings)
  const path = settings.cacheDir && cachePath(settings.cacheDir, dir, settings)
  if (path) {
    let cached: CachedFolder | undefined
    try {
      cached = await readFolderCache(path, key)
    } catch (error) {
      settings.onWarning(`${(error as Error).message}; decoding the folder again`)
    }
    if (cached) {
      for (const { message } of cached.skipped) settings.onWarning(`skipped a bad image: ${message}`)
      return toResult(dir, listing, cached, true)
    }
  }
  const contents = await decodeFolder(listing, settings, key)
  for (const { message } of contents.skipped) settings.onWarning(`skipped a bad image: ${message}`)
  const result = toResult(dir, listing, contents, false)
  if (path) {
    try {
      await writeFolderCache(path, contents)
    } catch (error) {
      settings.onWarning(`the decoded folder could not be cached in ${path}: ${(error as Error).message}`)
    }
  }
  return result
}

export const IMAGE_FOLDER_LAYOUTS = 'DIR/<class>/*.png|jpg|jpeg|webp, or DIR/train/<class>/... with DIR/test/<class>/... or DIR/val/<class>/...'

/** A folder of class subfolders (Keras/torchvision layout), one split or train/ with test/ or val/. */
export async function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolderData> {
  if (typeof dir !== 'string' || dir === '') throw invalidArgument('loadImageFolder()', 'dir', dir, 'a directory path')
  checkOptions('loadImageFolder()', options)
  const listing = await listImageFolder(dir)
  if (!listing) throw new DatasetError(`${dir} is not an image folder: no subfolder holds images (expected ${IMAGE_FOLDER_LAYOUTS})`)
  return loadListedFolder(dir, listing, options)
}
