// Image files to pixels with sharp (libvips): PNG, JPEG and WebP, grey or RGB, as planar
// [channels, height, width] bytes, or as floats in [0, 1] (byte / 255, like torchvision's ToTensor).
import { readFile } from 'node:fs/promises'
import type sharpType from 'sharp'
import { ImageError, invalidArgument } from '../errors'

export type Channels = 1 | 3

/** Decoded pixels: [channels, height, width] row-major floats in [0, 1]. */
export interface DecodedImage {
  channels: Channels
  height: number
  width: number
  pixels: Float32Array
}

export interface ReadImageOptions {
  /** 1: grey (sharp's greyscale, i.e. luminance, of colour files); 3: RGB (grey files repeated). */
  channels: Channels
}

export interface DecodeImageOptions extends ReadImageOptions {
  height: number
  width: number
  /** 'resize': stretch to height x width, aspect ratio not kept (the default, and the only one). */
  fit?: 'resize'
}

const FORMATS = new Set(['png', 'jpeg', 'webp'])

let loaded: typeof sharpType | undefined

// Loaded on first use: training and the CLI keep working where libvips cannot load.
export function sharp(): typeof sharpType {
  if (!loaded) {
    try {
      loaded = require('sharp') as typeof sharpType
      // One file at a time per libuv thread, many files at once: for the small images of a
      // dataset, libvips' threads within one image and its operation cache cost more than they
      // save (measured: bench/decode-folder.ts).
      loaded.concurrency(1)
      loaded.cache(false)
    } catch (error) {
      throw new ImageError(`the image decoder sharp could not be loaded: ${reason(error)}`, { cause: error })
    }
  }
  return loaded
}

function checkChannels(context: string, channels: unknown): Channels {
  if (channels !== 1 && channels !== 3) throw invalidArgument(context, 'channels', channels, '1 (grey) or 3 (RGB)')
  return channels
}

function checkPath(context: string, path: unknown): string {
  if (typeof path !== 'string' || path === '') throw invalidArgument(context, 'path', path, 'a file path')
  return path
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0].trim()
}

/** What a file's header says, read without decoding its pixels. */
export interface ImageInfo {
  format: 'png' | 'jpeg' | 'webp'
  /** After EXIF orientation, as decoding gives it. */
  height: number
  width: number
  /** Three colour bands in the header (RGB, palette, CMYK), not a grey file; pixels are not inspected. */
  colour: boolean
}

/** Decoded pixels as bytes: [channels, height, width] row-major (planar), 0-255. */
export interface DecodedBytes {
  channels: Channels
  height: number
  width: number
  bytes: Uint8Array
  /** The file's header: its own format, size and colour. */
  source: ImageInfo
}

async function probe(path: string): Promise<{ image: sharpType.Sharp; info: ImageInfo }> {
  // failOn 'warning': a truncated or corrupt file is an error, not a half-grey picture.
  let file: Buffer
  try {
    // Read once: the header and then the pixels come from memory, not from two opens of the file.
    file = await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ImageError(`${path} could not be read as an image: ${code === 'ENOENT' ? 'the file is missing' : (code ?? reason(error))}`, { cause: error })
  }
  // sharp throws a plain Error for an empty buffer, synchronously.
  if (file.length === 0) throw new ImageError(`${path} could not be read as an image: the file is empty`)
  const image = sharp()(file, { failOn: 'warning' })
  let metadata: sharpType.Metadata
  try {
    metadata = await image.metadata()
  } catch (error) {
    throw new ImageError(`${path} could not be read as an image: ${reason(error)}`, { cause: error })
  }
  const format = metadata.format
  if (!format || !FORMATS.has(format)) {
    throw new ImageError(`${path} is ${format ? `a ${format} image` : 'of an unknown format'}; expected PNG, JPEG or WebP`)
  }
  const bands = (metadata.channels ?? 3) - (metadata.hasAlpha ? 1 : 0)
  const { width, height } = metadata.autoOrient
  return { image, info: { format: format as ImageInfo['format'], height, width, colour: bands >= 3 } }
}

async function decode(path: string, channels: Channels, size?: { height: number; width: number }): Promise<DecodedBytes> {
  const { image, info: header } = await probe(path)
  // Transparent pixels become white: drawings saved from a canvas are dark ink on transparency.
  let pipeline = image.autoOrient().flatten({ background: '#ffffff' })
  if (size && (size.height !== header.height || size.width !== header.width)) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' })
  pipeline = channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb')
  let decoded: { data: Buffer; info: sharpType.OutputInfo }
  try {
    decoded = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
  } catch (error) {
    // libvips names the cause only sometimes ("premature end of JPEG file" or just "warning
    // treated as error"): say what it means, then what it said.
    throw new ImageError(`${path} could not be decoded (${header.format}): the file is damaged or truncated (libvips: ${reason(error)})`, { cause: error })
  }
  const { data, info } = decoded
  if (info.channels !== channels) {
    throw new ImageError(`${path} decoded to ${info.channels} channels, expected ${channels}`)
  }
  const plane = info.height * info.width
  const bytes = new Uint8Array(channels * plane)
  // sharp gives interleaved HWC bytes; models take planar CHW.
  if (channels === 1) bytes.set(data.subarray(0, plane))
  else {
    for (let i = 0, j = 0; i < plane; i++, j += 3) {
      bytes[i] = data[j]
      bytes[plane + i] = data[j + 1]
      bytes[2 * plane + i] = data[j + 2]
    }
  }
  return { channels, height: info.height, width: info.width, bytes, source: header }
}

function toFloats(decoded: DecodedBytes): DecodedImage {
  const pixels = new Float32Array(decoded.bytes.length)
  for (let i = 0; i < pixels.length; i++) pixels[i] = decoded.bytes[i] / 255
  return { channels: decoded.channels, height: decoded.height, width: decoded.width, pixels }
}

function checkSize(context: string, options: { height?: unknown; width?: unknown }): void {
  for (const field of ['height', 'width'] as const) {
    const value = options[field]
    if (!Number.isInteger(value) || (value as number) < 1) throw invalidArgument(context, field, value, 'a positive integer')
  }
}

/** Format, oriented size and colour of `path` from its header (unreadable and unsupported files throw). */
export async function probeImage(path: string): Promise<ImageInfo> {
  return (await probe(checkPath('probeImage()', path))).info
}

export interface ReadImageBytesOptions extends ReadImageOptions {
  /** Both or neither: stretched to height x width (aspect ratio not kept); default: the file's size. */
  height?: number
  width?: number
}

/** Decodes `path` to planar bytes, like readImage but without the division by 255. */
export async function readImageBytes(path: string, options: ReadImageBytesOptions): Promise<DecodedBytes> {
  const context = 'readImageBytes()'
  checkPath(context, path)
  const channels = checkChannels(context, options?.channels)
  if (options.height === undefined && options.width === undefined) return decode(path, channels)
  checkSize(context, options)
  return decode(path, channels, { height: options.height as number, width: options.width as number })
}

/** Decodes `path` at its own size (EXIF orientation applied, alpha flattened over white). */
export async function readImage(path: string, options: ReadImageOptions): Promise<DecodedImage> {
  const context = 'readImage()'
  return toFloats(await decode(checkPath(context, path), checkChannels(context, options?.channels)))
}

/** Decodes `path` resized to height x width: the [channels, height, width] input of a model. */
export async function decodeImage(path: string, options: DecodeImageOptions): Promise<Float32Array> {
  const context = 'decodeImage()'
  checkPath(context, path)
  const channels = checkChannels(context, options?.channels)
  checkSize(context, options)
  if (options.fit !== undefined && options.fit !== 'resize') throw invalidArgument(context, 'fit', options.fit, "'resize'")
  return toFloats(await decode(path, channels, { height: options.height, width: options.width })).pixels
}

/** The decoder's versions: a different libvips may decode a JPEG to different bytes. */
export function decoderVersion(): string {
  const { versions } = sharp()
  return `sharp ${versions.sharp}, libvips ${versions.vips}`
}
