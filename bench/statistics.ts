// What the benchmark reports of a contender's epochs: the median, and the spread (min-max)
// that says how far one noisy minute of a shared machine moved them.
export interface Spread {
  median: number
  min: number
  max: number
  /** (max - min) / median: comparable between contenders of different speeds. */
  relative: number
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function spread(values: number[]): Spread {
  const m = median(values)
  const min = Math.min(...values)
  const max = Math.max(...values)
  return { median: m, min, max, relative: (max - min) / m }
}
