// The IDX format of the MNIST files: a magic number (0, 0, dtype, rank), `rank` big-endian
// uint32 dimensions, then the values. Gzipped files are recognised by their own magic bytes.
import { readFile, stat } from 'node:fs/promises'
import { constants as bufferConstants } from 'node:buffer'
import { gunzipSync, constants as zlibConstants } from 'node:zlib'
import { DatasetError } from '../errors'

export interface IdxArray {
  dims: number[]
  /** Unsigned bytes, the only element type MNIST uses. */
  data: Uint8Array
}

const UBYTE = 0x08
const TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' }

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** Compressed bytes read first for the header: they cannot expand past ~1 MB (deflate's
 *  ratio is at most 1032:1), and hold the header of any IDX file. */
const HEADER_PREFIX = 1024

/**
 * Decompresses a gzipped IDX file to no more than its header declares: a gzip bomb (1 MB that
 * expands to 1 GB) is refused instead of filling memory. The header comes from a prefix of the
 * compressed stream (a sync flush decompresses what a truncated stream holds).
 */
export function gunzipIdx(bytes: Uint8Array, name: string): Uint8Array {
  try {
    const head = gunzipSync(bytes.subarray(0, HEADER_PREFIX), { finishFlush: zlibConstants.Z_SYNC_FLUSH })
    const declared = head.length >= 4 && head[0] === 0 && head[1] === 0 && head.length >= 4 + 4 * head[3] ? declaredLength(head) : null
    // Not an IDX header: let parseIdx report what is wrong with the first bytes.
    if (declared === null) return head
    if (declared > bufferConstants.MAX_LENGTH) throw new DatasetError(`${name}: its header declares ${declared} bytes, more than one buffer can hold`)
    return gunzipSync(bytes, { maxOutputLength: Math.max(declared, 1) + 1 })
  } catch (error) {
    if (error instanceof DatasetError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DatasetError(`${name}: decompresses to more bytes than its IDX header declares; refused (a damaged file or a gzip bomb)`, { cause: error })
    }
    throw new DatasetError(`${name}: gzip data is corrupt (${(error as Error).message})`, { cause: error })
  }
}

function declaredLength(header: Uint8Array): number {
  const rank = header[3]
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
  const length = 4 + 4 * rank
  let values = 1
  for (let i = 0; i < rank; i++) values *= view.getUint32(4 + 4 * i, false)
  return length + values
}

/** Parses IDX bytes (raw or gzipped); `name` is used in error messages. */
export function parseIdx(input: Uint8Array, name = 'IDX data'): IdxArray {
  const bytes = isGzip(input) ? gunzipIdx(input, name) : input
  if (bytes.length < 4) throw new DatasetError(`${name}: ${bytes.length} bytes is too short for an IDX header (4 bytes at least)`)
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(`${name}: bad magic number 0x${Buffer.from(bytes.subarray(0, 4)).toString('hex')}, expected 0x0000 followed by type and rank`)
  }
  const type = bytes[2]
  if (type !== UBYTE) {
    throw new DatasetError(`${name}: element type 0x${type.toString(16).padStart(2, '0')} (${TYPE_NAMES[type] ?? 'unknown'}) is not supported, expected 0x08 (ubyte)`)
  }
  const rank = bytes[3]
  if (rank < 1) throw new DatasetError(`${name}: rank must be at least 1, got ${rank}`)
  const headerLength = 4 + 4 * rank
  if (bytes.length < headerLength) throw new DatasetError(`${name}: header declares ${rank} dimensions but the file ends after ${bytes.length} bytes`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false))
  const expected = dims.reduce((a, b) => a * b, 1)
  const actual = bytes.length - headerLength
  if (actual !== expected) {
    throw new DatasetError(`${name}: dimensions ${dims.join('x')} need ${expected} bytes of data, the file has ${actual}`)
  }
  return { dims, data: bytes.subarray(headerLength) }
}

export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Buffer
  try {
    // A FIFO or a device would block the read (and the signals' handling) for ever.
    const kind = await stat(path)
    if (!kind.isFile()) throw new DatasetError(`${path}: not a regular file (${kind.isDirectory() ? 'a directory' : kind.isFIFO() ? 'a FIFO' : 'a device or socket'}); IDX data must be a file`)
    bytes = await readFile(path)
  } catch (error) {
    if (error instanceof DatasetError) throw error
    throw new DatasetError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error })
  }
  return parseIdx(bytes, path)
}

/** Encodes unsigned bytes as IDX (used by tests and by anyone exporting data). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length)
  header[2] = UBYTE
  header[3] = dims.length
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i))
  return Buffer.concat([header, data])
}
