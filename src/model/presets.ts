import { invalidArgument } from '../errors'
import type { ModelSpec } from './spec'

/** The seed tutorial's ConvNet: 28x28x1 => 28x28x8 => 14x14x8 => 14x14x16 => 7x7x16 => 10. */
export function seedSpec(): ModelSpec {
  return {
    input: [1, 28, 28],
    classes: 10,
    layers: [
      { type: 'conv2d', name: 'conv_1', filters: 8, kernel: 3, stride: 1, padding: 1 },
      { type: 'relu' },
      { type: 'maxPool2d', name: 'pool_1', kernel: 2, stride: 2, padding: 0 },
      { type: 'conv2d', name: 'conv_2', filters: 16, kernel: 3, stride: 1, padding: 1 },
      { type: 'relu' },
      { type: 'maxPool2d', name: 'pool_2', kernel: 2, stride: 2, padding: 0 },
      { type: 'flatten' },
      { type: 'linear', name: 'linear_1', units: 10 },
    ],
  }
}

/** A wider network with dropout: what the library can do beyond the seed. */
export function strongSpec(): ModelSpec {
  return {
    input: [1, 28, 28],
    classes: 10,
    layers: [
      { type: 'conv2d', name: 'conv_1', filters: 32, kernel: 3, padding: 'same' },
      { type: 'relu' },
      { type: 'conv2d', name: 'conv_2', filters: 32, kernel: 3, padding: 'same' },
      { type: 'relu' },
      { type: 'maxPool2d', name: 'pool_1', kernel: 2 },
      { type: 'conv2d', name: 'conv_3', filters: 64, kernel: 3, padding: 'same' },
      { type: 'relu' },
      { type: 'maxPool2d', name: 'pool_2', kernel: 2 },
      { type: 'flatten' },
      { type: 'dropout', p: 0.25 },
      { type: 'linear', name: 'linear_1', units: 128 },
      { type: 'relu' },
      { type: 'dropout', p: 0.25 },
      { type: 'linear', name: 'linear_2', units: 10 },
    ],
  }
}

export const presets = { seed: seedSpec, strong: strongSpec } as const
export type PresetName = keyof typeof presets

export function preset(name: string): ModelSpec {
  if (!Object.hasOwn(presets, name)) {
    throw invalidArgument('model', 'preset', name, `one of ${Object.keys(presets).map((p) => `'${p}'`).join(', ')}`)
  }
  return presets[name as PresetName]()
}

/** A preset name or a spec as the spec itself (default: the seed's). */
export function resolveSpec(model: string | ModelSpec | undefined): ModelSpec {
  if (model === undefined) return preset('seed')
  if (typeof model === 'string') return preset(model)
  return model
}
