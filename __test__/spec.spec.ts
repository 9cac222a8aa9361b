import test from 'ava'
import { Dataset, inferShapes, Model, ModelSpecError, preset, seedSpec, summary, train, type LayerSpec, type ModelSpec } from '../src/index'

const withLayers = (layers: LayerSpec[], input: [number, number, number] = [1, 28, 28]): ModelSpec => ({ input, classes: 10, layers })
const head: LayerSpec[] = [{ type: 'flatten' }, { type: 'linear', units: 10 }]

async function tinyData() {
  const set = Dataset.fromArrays({ images: new Uint8Array(8 * 784), labels: [0, 1, 2, 3, 4, 5, 6, 7], shape: [1, 28, 28], classes: 10 })
  return { train: set, test: set }
}

test('shape inference follows the seed comments: 28x28x1 => 28x28x8 => 14x14x8 => 14x14x16 => 7x7x16', (t) => {
  const shapes = inferShapes(seedSpec()).map((l) => l.output)
  t.deepEqual(shapes, [[8, 28, 28], [8, 28, 28], [8, 14, 14], [16, 14, 14], [16, 14, 14], [16, 7, 7], [784], [10]])
})

test('padding valid, same and full give the sizes of the output formula', (t) => {
  const conv = (padding: 'valid' | 'same' | 'full', stride = 1) => inferShapes(withLayers([{ type: 'conv2d', filters: 2, kernel: 5, stride, padding }, ...head]))[0].output
  t.deepEqual(conv('valid'), [2, 24, 24])
  t.deepEqual(conv('same'), [2, 28, 28])
  t.deepEqual(conv('full'), [2, 32, 32])
  // floor((28 + 0 - 5) / 2) + 1 = 12
  t.deepEqual(conv('valid', 2), [2, 12, 12])
})

const mistakes: [string, ModelSpec, RegExp][] = [
  ['an unknown layer type', withLayers([{ type: 'conv3d' } as unknown as LayerSpec, ...head]), /layer 0 has an unknown type 'conv3d'/],
  ['a linear layer on an image', withLayers([{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'linear', units: 10 }]), /layer 1 \(linear\) expects features, the layer before gives an image 2x26x26; add a flatten layer/],
  ['a declared input size that differs', withLayers([{ type: 'flatten' }, { type: 'linear', units: 10, inputs: 800 }]), /layer 1 \(linear\) expects 800 inputs, the layer before gives 784/],
  ['a kernel larger than its input', withLayers([{ type: 'conv2d', filters: 2, kernel: 30 }, ...head]), /layer 0 \(conv2d\) has a 30x30 kernel, larger than its padded input 1x28x28/],
  ["'same' padding with stride 2", withLayers([{ type: 'conv2d', filters: 2, kernel: 3, stride: 2, padding: 'same' }, ...head]), /layer 0 \(conv2d\) padding 'same' needs stride 1 and an odd kernel/],
  ['zero filters', withLayers([{ type: 'conv2d', filters: 0, kernel: 3 }, ...head]), /layer 0 \(conv2d\) filters must be a positive integer <= 1048576, got 0/],
  ['a negative padding', withLayers([{ type: 'conv2d', filters: 1, kernel: 3, padding: -1 }, ...head]), /layer 0 \(conv2d\) padding must be/],
  ['a pool padding over half its kernel', withLayers([{ type: 'maxPool2d', kernel: 2, padding: 2 }, ...head]), /layer 0 \(maxPool2d\) padding must be between 0 and half the kernel 2x2, got 2x2/],
  ['a dropout probability of 1', withLayers([{ type: 'dropout', p: 1 }, ...head]), /layer 0 \(dropout\) p must be a number in \[0, 1\), got 1/],
  ['a negative leaky slope', withLayers([{ type: 'leakyRelu', slope: -0.1 }, ...head]), /layer 0 \(leakyRelu\) slope must be a finite number >= 0/],
  ['two layers with one name', withLayers([{ type: 'conv2d', name: 'c', filters: 1, kernel: 3 }, { type: 'conv2d', name: 'c', filters: 1, kernel: 3 }, ...head]), /layer 1 \(conv2d\) reuses the name 'c'/],
  ['a last layer without one score per class', withLayers([{ type: 'flatten' }, { type: 'linear', units: 12 }]), /the last layer must give 10 class scores, the model gives 12/],
  ['a bad input shape', withLayers(head, [1, 0, 28]), /input must be \[channels, height, width\] of positive integers <= 1048576, got \[1, 0, 28\]/],
]

for (const [mistake, spec, message] of mistakes) {
  test(`a spec with ${mistake} is refused by inferShapes() and by Model.create()`, (t) => {
    t.throws(() => inferShapes(spec), { instanceOf: ModelSpecError, message })
    t.throws(() => Model.create({ model: spec, device: 'cpu' }), { instanceOf: ModelSpecError })
  })
}

test('one validator, run first everywhere: unknown fields are refused by name in inferShapes(), Model.create() and train()', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a slope on relu', withLayers([{ type: 'relu', slope: 2 } as unknown as LayerSpec, ...head]), /^layer 0 \(relu\) has no field 'slope'; it takes no fields$/],
    ['dilation on conv2d', withLayers([{ type: 'conv2d', filters: 4, kernel: 3, dilation: 2 } as unknown as LayerSpec, ...head]), /^layer 0 \(conv2d\) has no field 'dilation'; its fields are name, filters, kernel, stride, padding$/],
    ['an unknown top-level key', { ...withLayers(head), optimiser: 'sgd' }, /^a model spec has no field 'optimiser'; expected input, classes, layers$/],
    ['null', null, /^a model spec must be an object \{ input, classes, layers \}, got null$/],
  ]
  for (const [what, spec, message] of cases) {
    t.throws(() => inferShapes(spec as ModelSpec), { instanceOf: ModelSpecError, message }, what)
    t.throws(() => Model.create({ model: spec as ModelSpec, device: 'cpu' }), { instanceOf: ModelSpecError, message }, what)
    // train() checks the spec before reading any data or replaying torch's loader order.
    await t.throwsAsync(train({ model: spec as ModelSpec, data: '/nonexistent-data-dir', device: 'cpu' }), { instanceOf: ModelSpecError, message }, what)
  }
})

test('a spec nested 100,000 deep, or sized past what memory can hold, is a ModelSpecError, not a stack overflow or a 27 GB allocation', async (t) => {
  let deep: unknown = 3
  for (let i = 0; i < 100_000; i++) deep = [deep]
  const nested = withLayers([{ type: 'conv2d', filters: 4, kernel: deep } as unknown as LayerSpec, ...head])
  const error = t.throws(() => inferShapes(nested), { instanceOf: ModelSpecError })
  t.regex(error!.message, /^layer 0 \(conv2d\) kernel must be a positive integer <= 1048576 or \[height, width\] of them, got \[\[\[\[Array\(1\)\]\]\]\]$/)
  t.throws(() => inferShapes({ input: [2 ** 32, 2 ** 32, 1], classes: 10, layers: [{ type: 'flatten' }, { type: 'linear', units: 10 }] }), {
    instanceOf: ModelSpecError,
    message: /^input must be \[channels, height, width\] of positive integers <= 1048576, got \[4294967296, 4294967296, 1\]$/,
  })
  const huge: ModelSpec = { input: [1, 28, 28], classes: 10, layers: [{ type: 'conv2d', filters: 1_000_000, kernel: 3, padding: 1 }, { type: 'flatten' }, { type: 'linear', units: 10 }] }
  const data = await tinyData()
  const refused = await t.throwsAsync(train({ model: huge, data, device: 'cpu', epochs: 1 }), { instanceOf: ModelSpecError })
  t.regex(refused!.message, /^training this spec with batches of 8 needs at least [\d.]+ GB, more than the [\d.]+ GB of memory here; its largest output is layer 0 \(conv2d\) at 1000000x28x28 per example/)
})

test('summary() lists output shapes and parameter counts like torchsummary', (t) => {
  const text = summary(preset('strong'))
  t.regex(text, /conv_1 \(conv2d\)\s+32x28x28\s+320/)
  t.regex(text, /linear_1 \(linear\)\s+128\s+401,536/)
  const total = inferShapes(preset('strong')).reduce((sum, l) => sum + l.parameters, 0)
  t.regex(text, new RegExp(`Total params: ${total.toLocaleString('en-US')}`))
  const model = Model.create({ model: 'strong', device: 'cpu' })
  const native = Object.values(model.parameters()).reduce((sum, p) => sum + p.values.length, 0)
  t.is(native, total, 'the native model has exactly the parameters the summary counts')
})
