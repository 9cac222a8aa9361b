// Per-channel mean and standard deviation of a dataset's pixels after scaling to [0, 1]: the
// values `normalise: 'auto'` computes on the training set (as one computes them for
// torchvision's Normalize), kept in the model so that predict prepares images the same way.
import type { Dataset } from './dataset'

export function channelStatistics(dataset: Dataset): { mean: number[]; std: number[] } {
  const [channels, height, width] = dataset.shape
  const plane = height * width
  const scale = dataset.images instanceof Uint8Array ? 1 / 255 : 1
  const sum = new Float64Array(channels)
  const squares = new Float64Array(channels)
  const images = dataset.images
  for (let example = 0; example < dataset.count; example++) {
    for (let c = 0; c < channels; c++) {
      const start = (example * channels + c) * plane
      let s = 0
      let q = 0
      for (let i = start; i < start + plane; i++) {
        const v = images[i] * scale
        s += v
        q += v * v
      }
      sum[c] += s
      squares[c] += q
    }
  }
  const n = dataset.count * plane
  const mean = Array.from(sum, (s) => s / n)
  // The population deviation; a constant channel gets 1 so that nothing divides by zero.
  const std = Array.from(squares, (q, c) => Math.sqrt(Math.max(0, q / n - mean[c] ** 2)) || 1)
  return { mean, std }
}
