// Area-average resampling of one plane: each output pixel is the mean of the source area it
// covers, fractional pixels weighted by their overlap. No kernel overshoot, so values stay
// within the source's range (a Lanczos resize rings and then clips).

interface Tap {
  index: number
  weight: number
}

/** For each of `to` output cells along one axis, the source cells it covers and their weights. */
function taps(from: number, to: number): Tap[][] {
  const scale = from / to
  return Array.from({ length: to }, (_, i) => {
    const start = i * scale
    const end = (i + 1) * scale
    const cells: Tap[] = []
    for (let j = Math.floor(start); j < Math.min(from, Math.ceil(end)); j++) {
      const overlap = Math.min(end, j + 1) - Math.max(start, j)
      if (overlap > 0) cells.push({ index: j, weight: overlap / scale })
    }
    return cells
  })
}

/** Resizes a height x width plane (row-major) to toHeight x toWidth. */
export function areaResize(plane: Float32Array, height: number, width: number, toHeight: number, toWidth: number): Float32Array {
  const across = taps(width, toWidth)
  const down = taps(height, toHeight)
  // Rows first (width), then columns (height): the two passes are independent.
  const narrowed = new Float32Array(height * toWidth)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < toWidth; x++) {
      let sum = 0
      for (const { index, weight } of across[x]) sum += plane[y * width + index] * weight
      narrowed[y * toWidth + x] = sum
    }
  }
  const out = new Float32Array(toHeight * toWidth)
  for (let y = 0; y < toHeight; y++) {
    for (const { index, weight } of down[y]) {
      for (let x = 0; x < toWidth; x++) out[y * toWidth + x] += narrowed[index * toWidth + x] * weight
    }
  }
  return out
}
