// Downloads into a cache with a resumable, atomic write: bytes go to `<dest>.partial` (resumed
// with an HTTP Range request after an interruption), are verified by sha256, and only then
// renamed to `<dest>`. A failed checksum leaves nothing behind.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DatasetError } from '../errors'
import { gunzipIdx, isGzip } from './idx'

export interface DownloadOptions {
  url: string
  dest: string
  /** sha256 (hex) of the file's content; for gzip files, of the decompressed content. */
  sha256: string
  signal?: AbortSignal
  /** Milliseconds to wait for the server's answer, and then between two pieces of the body
   *  (default 30 s): a mirror that stops answering fails instead of hanging for minutes. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 30_000

export interface DownloadResult {
  path: string
  /** 'cache': already present and valid; 'downloaded'; 'resumed': continued a partial file. */
  outcome: 'cache' | 'downloaded' | 'resumed'
}

/** An HTTP status that says the file is not there (so a caller may try another name). */
export class NotFoundError extends DatasetError {}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size
  } catch {
    return undefined
  }
}

/** sha256 of a file's content, decompressing gzip first, so raw and .gz mirrors verify alike. */
export async function contentSha256(path: string): Promise<string> {
  const bytes: Uint8Array = await readFile(path)
  return createHash('sha256').update(isGzip(bytes) ? gunzipIdx(bytes, path) : bytes).digest('hex')
}

/** Aborts when restart() has not been called for `ms`: the connection went silent. */
class IdleTimeout {
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | null = null
  fired = false
  constructor(private readonly ms: number) {}
  get signal(): AbortSignal {
    return this.controller.signal
  }
  restart(): void {
    this.stop()
    this.timer = setTimeout(() => {
      this.fired = true
      this.controller.abort(new Error(`no data for ${this.ms} ms`))
    }, this.ms)
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined)
}

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, sha256, signal } = options
  if ((await sizeOf(dest)) !== undefined) {
    if ((await contentSha256(dest)) === sha256) return { path: dest, outcome: 'cache' }
    await removeQuietly(dest)
  }
  await mkdir(dirname(dest), { recursive: true })
  const partial = `${dest}.partial`
  const offset = (await sizeOf(partial)) ?? 0
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new DatasetError(`download(): timeoutMs must be a number of milliseconds > 0, got ${timeoutMs}`)
  const idle = new IdleTimeout(timeoutMs)
  const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal
  const silent = (error: unknown) => new DatasetError(`GET ${url}: the server sent nothing for ${timeoutMs / 1000} s; gave up (timeoutMs)`, { cause: error })
  let response: Response
  try {
    idle.restart()
    response = await fetch(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal: combined })
  } catch (error) {
    idle.stop()
    if (idle.fired && !signal?.aborted) throw silent(error)
    throw new DatasetError(`GET ${url} failed: ${(error as Error).message}`, { cause: error })
  }
  idle.restart()
  let outcome: DownloadResult['outcome'] = 'downloaded'
  if (response.status !== 200 && response.status !== 206) idle.stop()
  if (response.status === 416 && offset > 0) {
    // The partial file already holds every byte: verify it below.
    await response.body?.cancel()
    outcome = 'resumed'
  } else if (response.status === 404 || response.status === 410) {
    await response.body?.cancel()
    throw new NotFoundError(`GET ${url}: HTTP ${response.status}`)
  } else if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel()
    throw new DatasetError(`GET ${url}: HTTP ${response.status} ${response.statusText}`)
  } else {
    const append = response.status === 206 && offset > 0
    outcome = append ? 'resumed' : 'downloaded'
    if (!response.body) throw new DatasetError(`GET ${url}: the response has no body`)
    try {
      const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream)
      body.on('data', () => idle.restart())
      await pipeline(body, createWriteStream(partial, { flags: append ? 'a' : 'w' }))
    } catch (error) {
      // Keep the partial file: the next attempt resumes from where this one stopped.
      if (idle.fired && !signal?.aborted) throw silent(error)
      throw new DatasetError(`GET ${url} was interrupted after ${(await sizeOf(partial)) ?? 0} bytes: ${(error as Error).message}`, { cause: error })
    } finally {
      idle.stop()
    }
  }
  let actual: string
  try {
    actual = await contentSha256(partial)
  } catch (error) {
    await removeQuietly(partial)
    throw new DatasetError(`${url}: the downloaded file cannot be read (${(error as Error).message}); it was removed`, { cause: error })
  }
  if (actual !== sha256) {
    await removeQuietly(partial)
    throw new DatasetError(`${url}: sha256 mismatch, expected ${sha256}, got ${actual}; the download was removed`)
  }
  await rename(partial, dest)
  return { path: dest, outcome }
}
