// Pictures of what the network sees: planes of numbers as grey tiles in a grid, and a
// class-activation map laid over its image, encoded as PNG by sharp.
import { sharp } from '../image/decode'

/** One plane [h, w] of any range as bytes: its min black, its max white. */
export function planeBytes(values: Float32Array, offset: number, length: number): Uint8Array {
  let min = Infinity
  let max = -Infinity
  for (let i = offset; i < offset + length; i++) {
    min = Math.min(min, values[i])
    max = Math.max(max, values[i])
  }
  const span = max - min || 1
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.round(((values[offset + i] - min) / span) * 255)
  return out
}

/**
 * `count` planes of `height` x `width` (consecutive in `values`), each scaled up `zoom` times
 * (nearest, so pixels stay pixels), in rows of `columns` with a 2-pixel dark gap: grey bytes.
 */
export function tileGrid(values: Float32Array, count: number, height: number, width: number, zoom: number, columns = Math.ceil(Math.sqrt(count))): { bytes: Uint8Array; width: number; height: number } {
  const gap = 2
  const rows = Math.ceil(count / columns)
  const tileH = height * zoom
  const tileW = width * zoom
  const gridW = columns * tileW + (columns + 1) * gap
  const gridH = rows * tileH + (rows + 1) * gap
  const bytes = new Uint8Array(gridW * gridH).fill(40)
  for (let k = 0; k < count; k++) {
    const plane = planeBytes(values, k * height * width, height * width)
    const left = gap + (k % columns) * (tileW + gap)
    const top = gap + Math.floor(k / columns) * (tileH + gap)
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) bytes[(top + y) * gridW + left + x] = plane[Math.floor(y / zoom) * width + Math.floor(x / zoom)]
    }
  }
  return { bytes, width: gridW, height: gridH }
}

export async function greyPng(image: { bytes: Uint8Array; width: number; height: number }): Promise<Buffer> {
  return sharp()(Buffer.from(image.bytes), { raw: { width: image.width, height: image.height, channels: 1 } }).png().toBuffer()
}

/**
 * The map laid over the image (grey or RGB planar floats in [0, 1]): the map, stretched to the
 * image by bilinear interpolation and scaled to its maximum, tints the image red, `zoom` times larger.
 */
export async function camOverlayPng(image: Float32Array, channels: number, height: number, width: number, cam: Float32Array, camHeight: number, camWidth: number, zoom = 6): Promise<Buffer> {
  const camBytes = planeBytes(cam, 0, camHeight * camWidth)
  const stretched = await sharp()(Buffer.from(camBytes), { raw: { width: camWidth, height: camHeight, channels: 1 } }).resize(width, height, { kernel: 'linear', fit: 'fill' }).extractChannel(0).raw().toBuffer()
  const plane = height * width
  const rgb = Buffer.alloc(3 * plane)
  for (let i = 0; i < plane; i++) {
    const grey = channels === 1 ? image[i] : (image[i] + image[plane + i] + image[2 * plane + i]) / 3
    const heat = stretched[i] / 255
    rgb[3 * i] = Math.round(255 * Math.min(1, grey * (1 - heat) + heat))
    rgb[3 * i + 1] = Math.round(255 * grey * (1 - heat))
    rgb[3 * i + 2] = Math.round(255 * grey * (1 - heat))
  }
  return sharp()(rgb, { raw: { width, height, channels: 3 } }).resize(width * zoom, height * zoom, { kernel: 'nearest' }).png().toBuffer()
}
