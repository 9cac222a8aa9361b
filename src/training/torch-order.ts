// The example order of the seed script's `DataLoader(shuffle=True)`, computed with libtorch's
// own generator (see crates/core/src/torch_order.rs), so convtorch trains on exactly the batches
// the PyTorch script trains on. It replays the model's initialisation draws, so it belongs to the
// loop (which knows the model), not to data/ (which knows no model).
import { invalidArgument } from '../errors'
import type { Init } from '../model/model'
import { preset } from '../model/presets'
import type { ModelSpec } from '../model/spec'
import { call, native } from '../native'

export interface TorchOrderOptions {
  model?: string | ModelSpec
  init?: Init
  seed?: number
  epochs: number
  /** Examples in the training set. */
  count: number
}

/** One permutation of 0..count-1 per epoch. Reseeds libtorch's global generator. */
export function torchLoaderOrders(options: TorchOrderOptions): Uint32Array[] {
  const spec = typeof options.model === 'object' ? options.model : preset(options.model ?? 'seed')
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw invalidArgument('torchLoaderOrders()', 'epochs', options.epochs, 'a non-negative integer')
  return call(() => native().torchLoaderOrders(JSON.stringify(spec), options.init ?? 'seed', options.seed ?? 1, options.epochs, options.count))
}
