// Image files to floats with sharp (libvips): PNG, JPEG and WebP, grey or RGB, as
// [channels, height, width] row-major values in [0, 1] (byte / 255, like torchvision's ToTensor).
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

async function decode(path: string, channels: Channels, size?: { height: number; width: number }): Promise<DecodedImage> {
  // failOn 'warning': a truncated or corrupt file is an error, not a half-grey picture.
  const image = sharp()(path, { failOn: 'warning' })
  let format: string | undefined
  try {
    format = (await image.metadata()).format
  } catch (error) {
    throw new ImageError(`${path} could not be read as an image: ${reason(error)}`, { cause: error })
  }
  if (!format || !FORMATS.has(format)) {
    throw new ImageError(`${path} is ${format ? `a ${format} image` : 'of an unknown format'}; expected PNG, JPEG or WebP`)
  }
  // Transparent pixels become white: drawings saved from a canvas are dark ink on transparency.
  let pipeline = image.autoOrient().flatten({ background: '#ffffff' })
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' })
  pipeline = channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb')
  let decoded: { data: Buffer; info: sharpType.OutputInfo }
  try {
    decoded = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
  } catch (error) {
    // libvips names the cause only sometimes ("premature end of JPEG file" or just "warning
    // treated as error"): say what it means, then what it said.
    throw new ImageError(`${path} could not be decoded (${format}): the file is damaged or truncated (libvips: ${reason(error)})`, { cause: error })
  }
  const { data, info } = decoded
  if (info.channels !== channels) {
    throw new ImageError(`${path} decoded to ${info.channels} channels, expected ${channels}`)
  }
  const pixels = new Float32Array(channels * info.height * info.width)
  const plane = info.height * info.width
  // sharp gives interleaved HWC bytes; models take planar CHW.
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < channels; c++) pixels[c * plane + i] = data[i * channels + c] / 255
  }
  return { channels, height: info.height, width: info.width, pixels }
}

/** Decodes `path` at its own size (EXIF orientation applied, alpha flattened over white). */
export async function readImage(path: string, options: ReadImageOptions): Promise<DecodedImage> {
  const context = 'readImage()'
  return decode(checkPath(context, path), checkChannels(context, options?.channels))
}

/** Decodes `path` resized to height x width: the [channels, height, width] input of a model. */
export async function decodeImage(path: string, options: DecodeImageOptions): Promise<Float32Array> {
  const context = 'decodeImage()'
  checkPath(context, path)
  const channels = checkChannels(context, options?.channels)
  for (const field of ['height', 'width'] as const) {
    const value = options[field]
    if (!Number.isInteger(value) || value < 1) throw invalidArgument(context, field, value, 'a positive integer')
  }
  if (options.fit !== undefined && options.fit !== 'resize') throw invalidArgument(context, 'fit', options.fit, "'resize'")
  return (await decode(path, channels, { height: options.height, width: options.width })).pixels
}
