import test from 'ava'
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { onnx } from 'onnx-proto'
import { Model, perChannel, Rng, seedSpec, strongSpec, type ModelSpec, type Normalisation } from '../src/index'
import { mnist } from './helpers/mnist'
import { paritySpecs, RGB_NAME, rgbSpec } from './helpers/parity-specs'
import { scratchDirectories } from './helpers/scratch'
import { pythonWith, runTorchScript, torchMissing } from './helpers/torch'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const scratch = scratchDirectories('export-onnx')
const COUNT = 32
/** The bound on |ONNX Runtime's logit - convtorch's|, absolute. */
const TOLERANCE = 1e-4

interface Case {
  spec: ModelSpec
  normalise?: Normalisation
  classNames?: string[]
  /** Batches of SGD on MNIST before the export: logits of a trained net, not of N(0, 0.01) noise. */
  trainBatches?: number
}

const cases: Record<string, Case> = {
  'the seed net, trained for 100 batches': { spec: seedSpec(), trainBatches: 100 },
  'strong (dropout, same padding, a hidden layer), normalised, with class names': {
    spec: strongSpec(),
    normalise: { mean: 0.1307, std: 0.3081 },
    classNames: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
  },
  ...Object.fromEntries(Object.entries(paritySpecs).map(([name, spec]) => [name, { spec }])),
  [`${RGB_NAME}, per-channel normalisation`]: { spec: rgbSpec, normalise: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] } },
}

async function imagesFor(spec: ModelSpec): Promise<Float32Array> {
  const [c, h, w] = spec.input
  if (c === 1 && h === 28 && w === 28) {
    const { test: testSet } = await mnist()
    return Float32Array.from(testSet.slice(0, COUNT).images as Uint8Array, (v) => v / 255)
  }
  const rng = new Rng(5)
  return Float32Array.from({ length: COUNT * c * h * w }, () => rng.nextUint32() / 0x100000000)
}

async function modelFor(c: Case): Promise<Model> {
  const model = Model.create({ model: c.spec, device: 'cpu', init: 'default', seed: 7, normalise: c.normalise ?? null, classNames: c.classNames ?? null })
  if (c.trainBatches) {
    const { train } = await mnist()
    const data = train.slice(0, c.trainBatches * 64).toDevice('cpu')
    await model.trainBatches(data, Uint32Array.from({ length: c.trainBatches * 64 }, (_, i) => i), 64)
    data.dispose()
  }
  return model
}

/** What convtorch computes for pixels in [0, 1]: its own normalisation, then the network. */
function convtorchLogits(model: Model, images: Float32Array): Float32Array {
  const [c, h, w] = model.spec.input
  const plane = h * w
  if (!model.normalise) return model.logits(images)
  const { mean, std } = perChannel(model.normalise, c)
  return model.logits(images.map((v, i) => (v - mean[Math.floor(i / plane) % c]) / std[Math.floor(i / plane) % c]))
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]))
  return worst
}

test('the seed export is opset 17 with a symbolic batch, PyTorch-named initializers and its metadata', (t) => {
  const model = Model.create({ model: 'seed', device: 'cpu' })
  const decoded = onnx.ModelProto.decode(model.exportOnnx())
  t.is(Number(decoded.irVersion), 8)
  t.deepEqual(decoded.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]])
  const graph = decoded.graph as onnx.GraphProto
  const dims = (v: onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))
  t.deepEqual(graph.input.map((v) => [v.name, dims(v)]), [['input', ['batch', 1, 28, 28]]])
  t.deepEqual(graph.output.map((v) => [v.name, dims(v)]), [['logits', ['batch', 10]], ['probabilities', ['batch', 10]]])
  t.deepEqual(graph.node.map((n) => n.opType), ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Softmax'])
  t.deepEqual(graph.initializer.map((i) => i.name), model.parameterNames())
  const weight = graph.initializer[0]
  const expected = model.parameter('conv_1.weight').values
  const stored = new Float32Array(Uint8Array.from(weight.rawData!).buffer)
  t.deepEqual(Array.from(stored), Array.from(expected), 'raw_data holds the parameter, little-endian float32')
  const metadata = Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]))
  t.deepEqual(JSON.parse(metadata.classNames!), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
  t.deepEqual(JSON.parse(metadata.spec!), seedSpec())
  t.is(metadata.preprocess, 'mnist')
  t.is(metadata.normalisation, 'null')
  model.dispose()
})

test('dropout exports as Identity, average pooling counts its padding, normalisation runs first', (t) => {
  const model = Model.create({ model: rgbSpec, device: 'cpu', normalise: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] } })
  const graph = onnx.ModelProto.decode(model.exportOnnx()).graph as onnx.GraphProto
  t.deepEqual(graph.node.map((n) => n.opType), ['Sub', 'Div', 'Conv', 'LeakyRelu', 'MaxPool', 'Identity', 'Conv', 'Sigmoid', 'AveragePool', 'Flatten', 'Gemm', 'Tanh', 'Gemm', 'Softmax'])
  const attributes = (n: onnx.INodeProto) => Object.fromEntries(n.attribute!.map((a) => [a.name, a.ints && a.ints.length ? a.ints.map(Number) : a.type === onnx.AttributeProto.AttributeType.FLOAT ? a.f : Number(a.i)]))
  const [, , conv, leaky, maxPool, , full, , avgPool] = graph.node
  t.deepEqual(attributes(conv), { kernel_shape: [3, 2], strides: [1, 2], pads: [1, 0, 1, 0], dilations: [1, 1], group: 1 })
  t.true(Math.abs((attributes(leaky).alpha as number) - 0.01) < 1e-9, 'the default slope')
  t.deepEqual(attributes(maxPool), { kernel_shape: [2, 3], strides: [1, 1], pads: [1, 1, 1, 1], ceil_mode: 0 })
  t.deepEqual(attributes(full).pads, [2, 2, 2, 2], "'full' pads k - 1")
  t.deepEqual(attributes(avgPool), { kernel_shape: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1], ceil_mode: 0, count_include_pad: 1 })
  const mean = graph.initializer.find((i) => i.name === 'normalise.mean')!
  t.deepEqual(mean.dims!.map(Number), [1, 3, 1, 1])
  t.deepEqual(Array.from(new Float32Array(Uint8Array.from(mean.rawData!).buffer)), [0.5, 0.4, 0.3].map(Math.fround))
  model.dispose()
})

const python = pythonWith(['onnx', 'onnxruntime'])

interface Checked {
  onnx: string
  onnxruntime: string
  irVersion: number
  opset: Array<[string, number]>
  inputs: Array<[string, Array<string | number>]>
  outputs: Array<[string, Array<string | number>]>
  operators: string[]
  metadata: Record<string, string>
  logits: number[]
  probabilities: number[]
  firstLogits: number[]
}

for (const [name, c] of Object.entries(cases)) {
  test(`onnx.checker accepts the export and ONNX Runtime gives convtorch's logits: ${name}`, async (t) => {
    if ('reason' in python) return torchMissing(t, python.reason, 'onnx with onnxruntime')
    const dir = await scratch('parity')
    const model = await modelFor(c)
    const file = join(dir, 'model.onnx')
    const bytes = model.exportOnnx()
    await writeFile(file, bytes)
    const images = await imagesFor(c.spec)
    const expected = convtorchLogits(model, images)
    const answer = runTorchScript<Checked>(python.python, 'onnx_check.py', { model: file, images: Array.from(images), shape: [COUNT, ...c.spec.input] })
    const probabilities = model.predict(images.slice()).probabilities
    const errors = {
      logits: maxAbsDifference(answer.logits, expected),
      'batch of one': maxAbsDifference(answer.firstLogits, expected.subarray(0, c.spec.classes)),
    }
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    t.log(`onnx ${answer.onnx}, onnxruntime ${answer.onnxruntime}; ${bytes.length} bytes; largest |logit| ${scale.toFixed(3)}; max abs errors ${JSON.stringify(errors)}`)
    for (const [what, error] of Object.entries(errors)) t.true(error <= TOLERANCE, `${what}: max abs error ${error} > ${TOLERANCE}`)
    t.true(scale > 0.05, `the logits are not all near 0 (largest ${scale}): the comparison means something`)
    if (!c.normalise) t.true(maxAbsDifference(answer.probabilities, probabilities) <= 1e-5, 'softmax output beside the logits')
    t.deepEqual(answer.inputs, [['input', ['batch', ...c.spec.input]]])
    t.deepEqual(answer.outputs, [['logits', ['batch', c.spec.classes]], ['probabilities', ['batch', c.spec.classes]]])
    t.deepEqual(answer.opset, [['', 17]])
    t.deepEqual(JSON.parse(answer.metadata.classNames), c.classNames ?? Array.from({ length: c.spec.classes }, (_, i) => String(i)))
    t.deepEqual(JSON.parse(answer.metadata.normalisation), c.normalise ?? null)
    model.dispose()
  })
}

test('convtorch export --format onnx writes the saved model as model.exportOnnx() does, and refuses another extension', async (t) => {
  const dir = await scratch('cli')
  const model = await modelFor(cases['strong (dropout, same padding, a hidden layer), normalised, with class names'])
  await model.save(join(dir, 'run'))
  const out = join(dir, 'deploy', 'digits.onnx')
  const result = spawnSync(process.execPath, [cli, 'export', '--model', join(dir, 'run'), '--format', 'onnx', '--out', out], { encoding: 'utf8' })
  t.is(result.status, 0, result.stderr)
  const written = await readFile(out)
  t.regex(result.stdout, new RegExp(`^Wrote ${out} \\(${written.length} bytes, ONNX opset 17\\)`))
  t.deepEqual(new Uint8Array(written), new Uint8Array(model.exportOnnx()), 'the same bytes')
  const wrong = spawnSync(process.execPath, [cli, 'export', '--model', join(dir, 'run'), '--format', 'onnx', '--out', join(dir, 'model.py')], { encoding: 'utf8' })
  t.is(wrong.status, 2)
  t.regex(wrong.stderr, /--out must name a \.onnx file for --format onnx, got '.*model\.py'/)
  model.dispose()
})
