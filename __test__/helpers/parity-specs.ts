// Specs that together use every layer type and padding form, shared by the parity tests.
import type { ModelSpec } from '../../src/index'

// Dropout is left out: its masks are random (layers-parity checks it on its own).
export const paritySpecs: Record<string, ModelSpec> = {
  'conv valid/same/full, strided, avg and max pool with padding, leaky ReLU, tanh': {
    input: [1, 28, 28],
    classes: 10,
    layers: [
      { type: 'conv2d', filters: 4, kernel: [3, 5], padding: 'same' },
      { type: 'leakyRelu', slope: 0.1 },
      { type: 'avgPool2d', kernel: 3, stride: 2, padding: 1 },
      { type: 'conv2d', name: 'conv_b', filters: 6, kernel: 3, stride: 2, padding: 'valid' },
      { type: 'tanh' },
      { type: 'conv2d', name: 'conv_c', filters: 5, kernel: 2, padding: 'full' },
      { type: 'maxPool2d', kernel: 2, padding: 1 },
      { type: 'flatten' },
      { type: 'linear', name: 'fc', units: 10 },
    ],
  },
  'sigmoid and a hidden linear layer': {
    input: [1, 28, 28],
    classes: 10,
    layers: [
      { type: 'conv2d', name: 'conv', filters: 3, kernel: 5, stride: 3 },
      { type: 'sigmoid' },
      { type: 'flatten' },
      { type: 'linear', name: 'hidden', units: 32 },
      { type: 'relu' },
      { type: 'linear', name: 'out', units: 10 },
    ],
  },
}

// Pairs, a 3-channel rectangular input, dropout, default slopes, unnamed parameter layers and a
// name clash: what the exports must name and pad right besides the parity specs.
export const RGB_NAME = 'RGB 20x24 input, pairs, dropout, unnamed layers, a pool named like a conv'
export const rgbSpec: ModelSpec = {
  input: [3, 20, 24],
  classes: 5,
  layers: [
    { type: 'conv2d', name: 'c1', filters: 4, kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
    { type: 'leakyRelu' },
    { type: 'maxPool2d', name: 'c1', kernel: [2, 3], stride: 1, padding: [1, 1] },
    { type: 'dropout', p: 0.5 },
    { type: 'conv2d', filters: 3, kernel: 3, padding: 'full' },
    { type: 'sigmoid' },
    { type: 'avgPool2d', kernel: 3, stride: [2, 1], padding: 1 },
    { type: 'flatten' },
    { type: 'linear', units: 7 },
    { type: 'tanh' },
    { type: 'linear', name: 'out', units: 5 },
  ],
}
