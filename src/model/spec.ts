// The model spec: the tutorial's vocabulary as data. The same JSON is read by the Rust core.

/** One number for both sides, or [height, width]. */
export type Pair = number | [number, number]

export type Padding = 'valid' | 'same' | 'full' | Pair

export interface Conv2dLayer {
  type: 'conv2d'
  name?: string
  filters: number
  kernel: Pair
  stride?: Pair
  padding?: Padding
}

export interface Pool2dLayer {
  type: 'maxPool2d' | 'avgPool2d'
  name?: string
  kernel: Pair
  /** Defaults to the kernel, as in PyTorch. */
  stride?: Pair
  padding?: Pair
}

export interface LinearLayer {
  type: 'linear'
  name?: string
  units: number
  /** The number of inputs it expects; inferred when left out, checked when given. */
  inputs?: number
}

export type LayerSpec =
  | Conv2dLayer
  | Pool2dLayer
  | LinearLayer
  | { type: 'relu' }
  | { type: 'leakyRelu'; slope?: number }
  | { type: 'sigmoid' }
  | { type: 'tanh' }
  | { type: 'dropout'; p: number }
  | { type: 'flatten' }

export interface ModelSpec {
  /** [channels, height, width] of one example. */
  input: [number, number, number]
  classes: number
  layers: LayerSpec[]
}
