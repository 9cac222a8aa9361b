// Shape inference before anything native exists, with the output-size formula of the seed's
// comments: out = floor((in + 2p - k) / s) + 1. An impossible spec is refused with the layer,
// its index and the shapes.
import { describeValue } from '../describe-value'
import { ModelSpecError } from '../errors'
import type { Conv2dLayer, LayerSpec, ModelSpec, Pair, Padding, Pool2dLayer } from './spec'

/** [channels, height, width] for images, [features] after flatten. */
export type Shape = [number, number, number] | [number]

export interface LayerShape {
  index: number
  type: LayerSpec['type']
  name: string
  output: Shape
  parameters: number
}

/** Each layer type's fields, as the core's spec reads them: anything else is a typo to report. */
const LAYER_FIELDS: Record<LayerSpec['type'], readonly string[]> = {
  conv2d: ['name', 'filters', 'kernel', 'stride', 'padding'],
  maxPool2d: ['name', 'kernel', 'stride', 'padding'],
  avgPool2d: ['name', 'kernel', 'stride', 'padding'],
  linear: ['name', 'units', 'inputs'],
  relu: [],
  leakyRelu: ['slope'],
  sigmoid: [],
  tanh: [],
  dropout: ['p'],
  flatten: [],
}
const LAYER_TYPES = new Set(Object.keys(LAYER_FIELDS))
const SPEC_FIELDS = ['input', 'classes', 'layers']
/** The largest extent of any dimension (libtorch indexes with int64, but a dimension past this
 *  is a typo, and products of a few of them would overflow). */
const MAX_EXTENT = 1 << 20
/** Values per example in any layer's output: past this one example alone is over 4 GB. */
const MAX_VALUES_PER_EXAMPLE = 2 ** 30

function unknownField(object: object, allowed: readonly string[]): string | undefined {
  return Object.keys(object).find((key) => !allowed.includes(key))
}

export function formatShape(shape: readonly number[]): string {
  return shape.join('x')
}

/** A size of the spec: a positive integer no larger than MAX_EXTENT. */
function isPositiveInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_EXTENT
}

function pair(value: Pair | undefined, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback
  return typeof value === 'number' ? [value, value] : value
}

class LayerChecker {
  constructor(
    private readonly index: number,
    private readonly layer: LayerSpec,
  ) {}

  fail(message: string): never {
    throw new ModelSpecError(`layer ${this.index} (${this.layer.type}) ${message}`)
  }

  positivePair(field: string, value: unknown, fallback?: [number, number]): [number, number] {
    if (value === undefined && fallback) return fallback
    const resolved = typeof value === 'number' ? [value, value] : value
    if (!Array.isArray(resolved) || resolved.length !== 2 || !resolved.every(isPositiveInteger)) {
      this.fail(`${field} must be a positive integer <= ${MAX_EXTENT} or [height, width] of them, got ${describeValue(value)}`)
    }
    return resolved as [number, number]
  }

  padding(value: Padding | undefined, kernel: [number, number], stride: [number, number]): [number, number] {
    if (value === undefined || value === 'valid') return [0, 0]
    if (value === 'full') return [kernel[0] - 1, kernel[1] - 1]
    if (value === 'same') {
      if (stride[0] !== 1 || stride[1] !== 1 || kernel[0] % 2 === 0 || kernel[1] % 2 === 0) {
        this.fail(`padding 'same' needs stride 1 and an odd kernel, got stride ${formatShape(stride)} and kernel ${formatShape(kernel)}`)
      }
      return [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2]
    }
    const amount = pair(value as Pair, [0, 0])
    if (!Array.isArray(amount) || amount.length !== 2 || !amount.every((v) => Number.isInteger(v) && v >= 0)) {
      this.fail(`padding must be 'valid', 'same', 'full', an integer >= 0 or a pair of them, got ${describeValue(value)}`)
    }
    return amount
  }
}

export interface LayerWindow {
  kernel: [number, number]
  stride: [number, number]
  /** Zeros (or, for max-pooling, ignored cells) added on each side: [top and bottom, left and right]. */
  padding: [number, number]
}

/** The resolved kernel, stride and padding of a convolution or pooling layer, as shape inference reads them. */
export function layerWindow(index: number, layer: Conv2dLayer | Pool2dLayer): LayerWindow {
  const check = new LayerChecker(index, layer)
  const kernel = check.positivePair('kernel', layer.kernel)
  if (layer.type === 'conv2d') {
    const stride = check.positivePair('stride', layer.stride, [1, 1])
    return { kernel, stride, padding: check.padding(layer.padding, kernel, stride) }
  }
  const stride = check.positivePair('stride', layer.stride, kernel)
  return { kernel, stride, padding: check.padding(layer.padding ?? 0, kernel, stride) }
}

function windowOutput(check: LayerChecker, input: Shape, kernel: [number, number], stride: [number, number], padding: [number, number]): [number, number] {
  const [, height, width] = input as [number, number, number]
  const size = (extent: number, i: number) => Math.floor((extent + 2 * padding[i] - kernel[i]) / stride[i]) + 1
  if (height + 2 * padding[0] < kernel[0] || width + 2 * padding[1] < kernel[1]) {
    check.fail(`has a ${formatShape(kernel)} kernel, larger than its padded input ${formatShape(input)}`)
  }
  return [size(height, 0), size(width, 1)]
}

function nextShape(index: number, layer: LayerSpec, input: Shape): { output: Shape; parameters: number } {
  const check = new LayerChecker(index, layer)
  const needsImage = () => {
    if (input.length !== 3) check.fail(`expects an image (channels x height x width), the layer before gives ${input[0]} features`)
  }
  switch (layer.type) {
    case 'conv2d': {
      needsImage()
      if (!isPositiveInteger(layer.filters)) check.fail(`filters must be a positive integer <= ${MAX_EXTENT}, got ${describeValue(layer.filters)}`)
      const { kernel, stride, padding } = layerWindow(index, layer)
      const [h, w] = windowOutput(check, input, kernel, stride, padding)
      const channels = input[0]
      return { output: [layer.filters, h, w], parameters: layer.filters * channels * kernel[0] * kernel[1] + layer.filters }
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      needsImage()
      const { kernel, stride, padding } = layerWindow(index, layer)
      if (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1]) {
        check.fail(`padding must be between 0 and half the kernel ${formatShape(kernel)}, got ${formatShape(padding)}`)
      }
      const [h, w] = windowOutput(check, input, kernel, stride, padding)
      return { output: [input[0], h, w], parameters: 0 }
    }
    case 'flatten':
      return { output: [input.reduce((a, b) => a * b, 1)], parameters: 0 }
    case 'linear': {
      if (input.length !== 1) check.fail(`expects features, the layer before gives an image ${formatShape(input)}; add a flatten layer`)
      if (!isPositiveInteger(layer.units)) check.fail(`units must be a positive integer <= ${MAX_EXTENT}, got ${describeValue(layer.units)}`)
      if (layer.inputs !== undefined && layer.inputs !== input[0]) {
        check.fail(`expects ${layer.inputs} inputs, the layer before gives ${input[0]}`)
      }
      return { output: [layer.units], parameters: layer.units * input[0] + layer.units }
    }
    case 'dropout':
      if (typeof layer.p !== 'number' || !(layer.p >= 0 && layer.p < 1)) check.fail(`p must be a number in [0, 1), got ${describeValue(layer.p)}`)
      return { output: input, parameters: 0 }
    case 'leakyRelu':
      if (layer.slope !== undefined && !(Number.isFinite(layer.slope) && layer.slope >= 0)) {
        check.fail(`slope must be a finite number >= 0, got ${describeValue(layer.slope)}`)
      }
      return { output: input, parameters: 0 }
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return { output: input, parameters: 0 }
  }
}

/** Every layer's output shape and parameter count; throws ModelSpecError on the first mistake. */
export function inferShapes(spec: ModelSpec): LayerShape[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new ModelSpecError(`a model spec must be an object { input, classes, layers }, got ${describeValue(spec)}`)
  const extra = unknownField(spec, SPEC_FIELDS)
  if (extra !== undefined) throw new ModelSpecError(`a model spec has no field '${extra}'; expected ${SPEC_FIELDS.join(', ')}`)
  if (!Array.isArray(spec.input) || spec.input.length !== 3 || !spec.input.every(isPositiveInteger)) {
    throw new ModelSpecError(`input must be [channels, height, width] of positive integers <= ${MAX_EXTENT}, got ${describeValue(spec.input)}`)
  }
  if (!Number.isInteger(spec.classes) || spec.classes < 2 || spec.classes > MAX_EXTENT) throw new ModelSpecError(`classes must be an integer in [2, ${MAX_EXTENT}], got ${describeValue(spec.classes)}`)
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new ModelSpecError('layers must be a non-empty array')
  let shape: Shape = [spec.input[0], spec.input[1], spec.input[2]] as Shape
  const names = new Set<string>()
  const result = spec.layers.map((layer, index) => {
    if (typeof layer !== 'object' || layer === null || !LAYER_TYPES.has((layer as { type: string }).type)) {
      throw new ModelSpecError(`layer ${index} has an unknown type ${describeValue((layer as { type?: unknown })?.type)}; expected one of ${[...LAYER_TYPES].join(', ')}`)
    }
    const extraField = unknownField(layer, ['type', ...LAYER_FIELDS[layer.type]])
    if (extraField !== undefined) {
      const fields = LAYER_FIELDS[layer.type]
      throw new ModelSpecError(`layer ${index} (${layer.type}) has no field '${extraField}'; ${fields.length ? `its fields are ${fields.join(', ')}` : 'it takes no fields'}`)
    }
    if ('name' in layer && layer.name !== undefined && (typeof layer.name !== 'string' || layer.name === '')) {
      throw new ModelSpecError(`layer ${index} (${layer.type}) name must be a non-empty string, got ${describeValue(layer.name)}`)
    }
    const name = ('name' in layer && layer.name) || String(index)
    const { output, parameters } = nextShape(index, layer, shape)
    if (parameters > 0) {
      if (names.has(name)) throw new ModelSpecError(`layer ${index} (${layer.type}) reuses the name '${name}'`)
      names.add(name)
    }
    if (output.some((d) => d > MAX_EXTENT * MAX_EXTENT) || output.reduce((a, b) => a * b, 1) > MAX_VALUES_PER_EXAMPLE) {
      throw new ModelSpecError(`layer ${index} (${layer.type}) gives ${formatShape(output)} values per example, more than ${MAX_VALUES_PER_EXAMPLE} (4 GB of floats for one example)`)
    }
    shape = output
    return { index, type: layer.type, name, output, parameters }
  })
  if (shape.length !== 1 || shape[0] !== spec.classes) {
    throw new ModelSpecError(`the last layer must give ${spec.classes} class scores, the model gives ${formatShape(shape)}`)
  }
  return result
}
