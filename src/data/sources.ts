// Where training data comes from: the bundled MNIST, a directory of IDX files, or a mirror URL.
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { DatasetError } from '../errors'
import { download, NotFoundError } from './download'
import { loadIdxDirectory, loadMnist, MNIST_FILES, type Split } from './mnist'

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
}

export interface ResolvedData extends Split {
  /** 'mnist (bundled)', the directory, or the URL. */
  source: string
}

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'convtorch', 'datasets')
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

/** Resolves `data`: 'mnist' (bundled), a directory of IDX files, or an http(s) mirror URL. */
export async function resolveData(data: string, options: SourceOptions = {}): Promise<ResolvedData> {
  if (data === 'mnist') return { ...(await loadMnist()), source: 'mnist (bundled)' }
  if (/^https?:\/\//.test(data)) return { ...(await fromMirror(data, options)), source: data }
  if (existsSync(data) && statSync(data).isDirectory()) {
    return { ...(await loadIdxDirectory(data, fileInDirectory)), source: data }
  }
  throw new DatasetError(`data must be 'mnist', a directory of IDX files or an http(s) URL, got '${data}' (no such directory)`)
}
