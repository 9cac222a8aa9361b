// Where training data comes from: the bundled MNIST, a directory of IDX files, CIFAR-10 binaries
// or images in class folders, or a mirror URL.
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { DatasetError } from '../errors'
import { defaultCacheDir } from './cache-dir'
import { isCifarDirectory, loadCifar10, CIFAR10_FILES } from './cifar'
import type { Dataset } from './dataset'
import { download, NotFoundError } from './download'
import { listImageFolder } from './folder-layout'
import { IMAGE_FOLDER_LAYOUTS, loadListedFolder, type ImageFolderOptions } from './image-folder'
import { loadIdxDirectory, loadMnist, MNIST_FILES, type Split } from './mnist'
import { validationSplit } from './validation-split'

export { defaultCacheDir } from './cache-dir'

/** sha256 of the four original MNIST files, decompressed (read off the bundled copies). */
export const MNIST_SHA256: Record<string, string> = {
  [MNIST_FILES.trainImages]: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  [MNIST_FILES.trainLabels]: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  [MNIST_FILES.testImages]: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  [MNIST_FILES.testLabels]: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
}

export interface SourceOptions {
  /** Download cache; default ~/.cache/convtorch/datasets. */
  cacheDir?: string
  /** sha256 per file name (of the decompressed content); default: MNIST's. */
  checksums?: Record<string, string>
  signal?: AbortSignal
  /** Told about each file fetched from a mirror. */
  onDownload?: (file: string, outcome: string) => void
  /** How an image folder is decoded (size, channels, bad files, progress); its cache is under cacheDir. */
  imageFolder?: Omit<ImageFolderOptions, 'cacheDir'>
  /** The share of each class a one-split image folder (DIR/<class>/...) holds out as its test split; default 0.2. */
  testFraction?: number
  /** Seed of that hold-out; default 0. */
  seed?: number
}

export type DataFormat = 'mnist' | 'idx' | 'cifar-10' | 'image-folder'

export interface ResolvedData extends Split {
  /** 'mnist (bundled)', the directory (with how a test split was made, if it was), or the URL. */
  source: string
  format: DataFormat
  /** Label i's name, where the data names its classes (CIFAR-10, image folders). */
  classNames?: string[]
  /** An image folder's val/ when it has test/ as well. */
  validation?: Dataset
}

async function fileInDirectory(dir: string, name: string): Promise<string> {
  for (const candidate of [name, `${name}.gz`]) {
    if (existsSync(join(dir, candidate))) return join(dir, candidate)
  }
  throw new DatasetError(`${dir} has neither ${name} nor ${name}.gz`)
}

async function fromMirror(url: string, options: SourceOptions): Promise<Split> {
  const base = url.replace(/\/+$/, '')
  const cache = join(options.cacheDir ?? defaultCacheDir(), createHash('sha256').update(base).digest('hex').slice(0, 16))
  const checksums = options.checksums ?? MNIST_SHA256
  return loadIdxDirectory(cache, async (dir, name) => {
    const sha256 = checksums[name]
    if (!sha256) throw new DatasetError(`no sha256 is known for ${name}; pass checksums for the files of ${url}`)
    // Mirrors serve the gzipped originals; a raw file under the plain name is accepted too.
    for (const served of [`${name}.gz`, name]) {
      try {
        const result = await download({ url: `${base}/${served}`, dest: join(dir, served), sha256, signal: options.signal })
        options.onDownload?.(served, result.outcome)
        return result.path
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error
      }
    }
    throw new DatasetError(`${base} serves neither ${name}.gz nor ${name}`)
  })
}

function isIdxDirectory(dir: string): boolean {
  return Object.values(MNIST_FILES).some((name) => existsSync(join(dir, name)) || existsSync(join(dir, `${name}.gz`)))
}

async function fromImageFolder(dir: string, options: SourceOptions): Promise<ResolvedData | undefined> {
  const listing = await listImageFolder(dir)
  if (!listing) return undefined
  const folder = await loadListedFolder(dir, listing, { ...options.imageFolder, cacheDir: options.cacheDir })
  const base = { format: 'image-folder' as const, classNames: folder.classNames, validation: folder.validation }
  if (folder.test) return { ...base, train: folder.train, test: folder.test, source: dir }
  const fraction = options.testFraction ?? 0.2
  const seed = options.seed ?? 0
  const { train, validation: test } = validationSplit(folder.train, fraction, seed)
  return { ...base, train, test, source: `${dir} (no test/ or val/: ${Math.round(fraction * 100)}% of each class held out as the test split, seed ${seed})` }
}

/** Resolves `data`: 'mnist' (bundled), a directory (IDX, CIFAR-10 binaries, an image folder), or an http(s) mirror URL. */
export async function resolveData(data: string, options: SourceOptions = {}): Promise<ResolvedData> {
  if (data === 'mnist') return { ...(await loadMnist()), source: 'mnist (bundled)', format: 'mnist' }
  if (/^https?:\/\//.test(data)) return { ...(await fromMirror(data, options)), source: data, format: 'idx' }
  if (existsSync(data) && statSync(data).isDirectory()) {
    if (isIdxDirectory(data)) return { ...(await loadIdxDirectory(data, fileInDirectory)), source: data, format: 'idx' }
    if (isCifarDirectory(data)) return { ...(await loadCifar10(data)), source: data, format: 'cifar-10' }
    const folder = await fromImageFolder(data, options)
    if (folder) return folder
    throw new DatasetError(
      `${data} is a directory of none of the known layouts; looked for: MNIST IDX files (${Object.values(MNIST_FILES).join(', ')}, raw or .gz), ` +
        `CIFAR-10 binaries (${[...CIFAR10_FILES.train, CIFAR10_FILES.test, CIFAR10_FILES.meta].join(', ')}), an image folder (${IMAGE_FOLDER_LAYOUTS})`,
    )
  }
  throw new DatasetError(`data must be 'mnist', a directory (IDX, CIFAR-10 binaries or an image folder) or an http(s) URL, got '${data}' (no such directory)`)
}
