// The train flags that combine into one train() option: the optimizer, an image folder's
// decoding, the normalisation.
import type { OptimizerOptions } from '../model/optimizer'
import type { TrainOptions } from '../training/options'
import { parseChoice, UsageError } from './flags'

export type OptimizerFlags = { optimizer?: 'sgd' | 'adam' | 'adamW'; momentum?: number; nesterov?: boolean; weightDecay?: number; lr?: number }

/** The optimizer the flags name; undefined for a resumed run that names none (it keeps its own). */
export function optimizerFromFlags(flags: OptimizerFlags, resuming: boolean): OptimizerOptions | undefined {
  const { optimizer, momentum, nesterov, weightDecay, lr } = flags
  if (resuming && optimizer === undefined && momentum === undefined && !nesterov && weightDecay === undefined && lr === undefined) return undefined
  const kind = optimizer ?? 'sgd'
  // torch.optim's own default for Adam; the seed's for SGD.
  const rate = lr ?? (kind === 'sgd' ? 0.05 : 0.001)
  if (kind === 'sgd') return { kind, lr: rate, momentum, weightDecay, nesterov: nesterov || undefined }
  if (momentum !== undefined || nesterov) throw new UsageError(`--momentum and --nesterov apply to --optimizer sgd, got --optimizer ${kind}`)
  return { kind, lr: rate, weightDecay }
}

export type ImageFolderFlags = { imageSize?: [number, number]; resize?: boolean; channels?: 1 | 3; skipBadImages?: boolean }

export function parseImageSize(raw: string): [number, number] {
  const match = /^(\d+)x(\d+)$/.exec(raw)
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new UsageError(`--image-size must be HxW such as 32x32, got '${raw}'`)
  return [Number(match[1]), Number(match[2])]
}

export function parseChannels(raw: string): 1 | 3 {
  return Number(parseChoice('--channels', raw, ['1', '3'])) as 1 | 3
}

export function imageFolderFromFlags(flags: ImageFolderFlags): TrainOptions['imageFolder'] {
  return {
    imageSize: flags.imageSize,
    resize: flags.resize || undefined,
    channels: flags.channels,
    skipBadImages: flags.skipBadImages || undefined,
    onWarning: (message) => process.stderr.write(`convtorch: warning: ${message}\n`),
    onProgress: decodingProgress(),
  }
}

/** "Decoding images: 1200/5000" on stderr, at most a few times a second, for large folders. */
function decodingProgress(): (done: number, total: number) => void {
  let last = 0
  return (done, total) => {
    const now = Date.now()
    // A pipe or a log gets the last line only; a terminal sees it count.
    if (done < total && (!process.stderr.isTTY || now - last < 250)) return
    last = now
    process.stderr.write(`convtorch: decoding images ${done}/${total}${done === total ? '\n' : '\r'}`)
  }
}

/** --normalise: auto, or MEAN,STD for every channel. */
export function parseNormalise(raw: string): NonNullable<TrainOptions['normalise']> {
  if (raw === 'auto') return raw
  const parts = raw.split(',')
  const [mean, std] = parts.map((part) => (part.trim() === '' ? NaN : Number(part)))
  if (parts.length !== 2 || !Number.isFinite(mean) || !(Number.isFinite(std) && std > 0)) throw new UsageError(`--normalise must be auto or MEAN,STD with STD > 0, got '${raw}'`)
  return { mean, std }
}
