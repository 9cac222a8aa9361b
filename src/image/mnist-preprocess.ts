// The MNIST convention for a 1x28x28 model, applied to a photographed or drawn digit: light ink
// on black, the digit fitted into 20x20 with its aspect ratio kept, then placed in 28x28 so that
// its centre of mass sits at the centre. This is how LeCun et al. normalised NIST's digits.
// Pure computation with no Node import: `convtorch serve` sends this module to the browser
// (src/serve/browser-modules.ts), so the page prepares a drawing with this very code.
import { invalidArgument } from '../errors'
import { areaResize } from './area-resize'
import type { DecodedImage } from './decode'

export const MNIST_SIZE = 28
/** The digit's longer side after fitting; the rest of the 28x28 field is margin. */
export const MNIST_BOX = 20
/** Below this spread between background and brightest pixel the image holds no ink. */
export const MIN_CONTRAST = 0.1
/** A pixel counts toward the ink's bounding box above this share of the ink range (noise stays out). */
export const INK_TOLERANCE = 0.2

export interface MnistInput {
  /** 28 x 28 floats in [0, 1], light ink on 0. */
  pixels: Float32Array
  /** The source had a light background and was inverted. */
  inverted: boolean
  /** No ink was found: `pixels` are all 0. */
  blank: boolean
}

/** The median of the outer ring (5% of the shorter side, at least 1 pixel): the background level. */
export function borderLevel(plane: Float32Array, height: number, width: number): number {
  const ring = Math.max(1, Math.floor(Math.min(height, width) / 20))
  const values: number[] = []
  for (let y = 0; y < height; y++) {
    const edgeRow = y < ring || y >= height - ring
    for (let x = 0; x < width; x++) {
      if (edgeRow || x < ring || x >= width - ring) values.push(plane[y * width + x])
    }
  }
  values.sort((a, b) => a - b)
  const mid = values.length >> 1
  // The median, not the mean: ink that touches the border does not move it.
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2
}

interface Box {
  top: number
  left: number
  height: number
  width: number
}

function inkBox(ink: Float32Array, height: number, width: number): Box {
  let top = height
  let bottom = -1
  let left = width
  let right = -1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] <= INK_TOLERANCE) continue
      top = Math.min(top, y)
      bottom = Math.max(bottom, y)
      left = Math.min(left, x)
      right = Math.max(right, x)
    }
  }
  return { top, left, height: bottom - top + 1, width: right - left + 1 }
}

function crop(plane: Float32Array, width: number, box: Box): Float32Array {
  const out = new Float32Array(box.height * box.width)
  for (let y = 0; y < box.height; y++) {
    out.set(plane.subarray((box.top + y) * width + box.left, (box.top + y) * width + box.left + box.width), y * box.width)
  }
  return out
}

/** The centre of mass in pixel-index coordinates ([row, column]). */
export function centreOfMass(plane: Float32Array, height: number, width: number): [number, number] {
  let mass = 0
  let rows = 0
  let cols = 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = plane[y * width + x]
      mass += v
      rows += v * y
      cols += v * x
    }
  }
  return mass > 0 ? [rows / mass, cols / mass] : [(height - 1) / 2, (width - 1) / 2]
}

/**
 * A decoded grey image to the 28x28 input of an MNIST model:
 * 1. background: the median of the border; above 0.5 it is light, and the image is inverted;
 * 2. levels: background -> 0, brightest pixel -> 1, no threshold (greys are kept);
 * 3. crop to the box of pixels above INK_TOLERANCE;
 * 4. fit the longer side to 20 by area averaging, aspect ratio kept, brightest pixel -> 1 again;
 * 5. paste into 28x28, shifted by the rounded offset that puts the centre of mass at pixel
 *    (14, 14), clipping what falls outside.
 * An image without ink (contrast below MIN_CONTRAST) gives all zeros and `blank: true`.
 */
export function preprocessMnist(image: DecodedImage): MnistInput {
  if (image?.channels !== 1) throw invalidArgument('preprocessMnist()', 'image.channels', image?.channels, '1 (decode with { channels: 1 })')
  const { height, width, pixels } = image
  if (pixels.length !== height * width) throw invalidArgument('preprocessMnist()', 'image.pixels', `${pixels.length} values`, `height x width = ${height * width} values`)
  const level = borderLevel(pixels, height, width)
  const inverted = level > 0.5
  const background = inverted ? 1 - level : level
  let peak = 0
  for (const v of pixels) peak = Math.max(peak, inverted ? 1 - v : v)
  const out = new Float32Array(MNIST_SIZE * MNIST_SIZE)
  if (peak - background < MIN_CONTRAST) return { pixels: out, inverted, blank: true }

  const ink = new Float32Array(pixels.length)
  for (let i = 0; i < pixels.length; i++) {
    const v = inverted ? 1 - pixels[i] : pixels[i]
    ink[i] = Math.min(1, Math.max(0, (v - background) / (peak - background)))
  }
  const box = inkBox(ink, height, width)
  const scale = MNIST_BOX / Math.max(box.height, box.width)
  const fitHeight = Math.max(1, Math.round(box.height * scale))
  const fitWidth = Math.max(1, Math.round(box.width * scale))
  const digit = areaResize(crop(ink, width, box), box.height, box.width, fitHeight, fitWidth)
  let brightest = 0
  for (const v of digit) brightest = Math.max(brightest, v)
  for (let i = 0; i < digit.length; i++) digit[i] /= brightest

  const [cy, cx] = centreOfMass(digit, fitHeight, fitWidth)
  // Pixel index 14, not 13.5: MNIST's test digits have their mean centre of mass at (14.0, 14.0).
  const centre = MNIST_SIZE / 2
  const top = Math.round(centre - cy)
  const left = Math.round(centre - cx)
  for (let y = 0; y < fitHeight; y++) {
    const row = top + y
    if (row < 0 || row >= MNIST_SIZE) continue
    for (let x = 0; x < fitWidth; x++) {
      const col = left + x
      if (col >= 0 && col < MNIST_SIZE) out[row * MNIST_SIZE + col] = digit[y * fitWidth + x]
    }
  }
  return { pixels: out, inverted, blank: false }
}
