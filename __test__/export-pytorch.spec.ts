import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidArgumentError, Model, ModelSpecError, pytorchSource, Rng, seedSpec, strongSpec, type ModelSpec } from '../src/index'
import { mnist } from './helpers/mnist'
import { paritySpecs, RGB_NAME, rgbSpec } from './helpers/parity-specs'
import { pythonWithTorch, relativeError, runTorchScript, torchMissing } from './helpers/torch'

interface Answer {
  torch: string
  reader: string
  keys: string[]
  logits: number[]
  helperLogits: number[]
}

// Then the parity specs (helpers/parity-specs.ts); the last adds pairs, a 3-channel
// rectangular input, dropout, default slopes, unnamed parameter layers and a name clash.
const specs: Record<string, ModelSpec> = {
  seed: seedSpec(),
  strong: strongSpec(),
  ...paritySpecs,
  [RGB_NAME]: rgbSpec,
}

const TOLERANCE = 1e-5
const COUNT = 16

async function imagesFor(spec: ModelSpec): Promise<Float32Array> {
  const [c, h, w] = spec.input
  if (c === 1 && h === 28 && w === 28) {
    const { test: testSet } = await mnist()
    return Float32Array.from(testSet.slice(0, COUNT).images as Uint8Array, (v) => v / 255)
  }
  const rng = new Rng(11)
  return Float32Array.from({ length: COUNT * c * h * w }, () => rng.nextUint32() / 0x100000000)
}

test('the seed spec becomes an nn.Sequential with convtorch names and PyTorch window arguments', (t) => {
  const source = pytorchSource(seedSpec())
  t.regex(source, /class ConvtorchNet\(nn\.Sequential\):/)
  t.true(source.includes('("conv_1", nn.Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))),  # 1x28x28 -> 8x28x28'))
  t.true(source.includes('("1", nn.ReLU()),'))
  t.true(source.includes('("pool_2", nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False)),'))
  t.true(source.includes('("linear_1", nn.Linear(784, 10)),'))
  const header = source.split('\n').filter((line) => line.startsWith('#   ')).map((line) => line.slice(4)).join('\n')
  t.deepEqual(JSON.parse(header), seedSpec(), 'the header comment holds the spec as JSON')
  t.true(source.includes('def load(weights_path, device="cpu"):'))
  const strong = pytorchSource(strongSpec(), { className: 'Strong' })
  t.true(strong.includes('("conv_2", nn.Conv2d(32, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))),'), "'same' is (k - 1) / 2")
  t.true(strong.includes('("9", nn.Dropout(p=0.25)),'))
  t.true(strong.includes('class Strong(nn.Sequential):'))
})

test('pytorchSource() refuses what PyTorch cannot name and specs that convtorch refuses', (t) => {
  const dotted = seedSpec()
  dotted.layers[0] = { type: 'conv2d', name: 'conv.1', filters: 8, kernel: 3, padding: 1 }
  t.throws(() => pytorchSource(dotted), { instanceOf: InvalidArgumentError, message: /layers\[0\]\.name must be a name without '\.'.*got 'conv\.1'/ })
  t.throws(() => pytorchSource(seedSpec(), { className: 'my net' }), { instanceOf: InvalidArgumentError, message: /className must be a Python identifier, got 'my net'/ })
  const even = seedSpec()
  even.layers[0] = { type: 'conv2d', name: 'conv_1', filters: 8, kernel: 2, padding: 'same' }
  t.throws(() => pytorchSource(even), { instanceOf: ModelSpecError, message: /padding 'same' needs stride 1 and an odd kernel/ })
})

const torch = pythonWithTorch()

if ('reason' in torch) {
  test('exported modules match convtorch in PyTorch', (t) => {
    torchMissing(t, torch.reason)
  })
} else {
  for (const [name, spec] of Object.entries(specs)) {
    test(`the exported module loads convtorch's weights strictly and gives its logits: ${name}`, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'convtorch-export-'))
      try {
        const model = Model.create({ model: spec, device: 'cpu', init: 'default', seed: 3 })
        await model.save(dir)
        const module = join(dir, 'model.py')
        await writeFile(module, pytorchSource(spec))
        const images = await imagesFor(spec)
        const expected = model.logits(images)
        const answer = runTorchScript<Answer>(torch.python, 'export_check.py', {
          module,
          className: 'ConvtorchNet',
          weights: join(dir, 'weights.safetensors'),
          images: Array.from(images),
          shape: [COUNT, ...spec.input],
        })
        t.deepEqual([...answer.keys].sort(), [...model.parameterNames()].sort(), 'state_dict keys are convtorch parameter names')
        const errors = { logits: relativeError(expected, answer.logits), 'load() helper': relativeError(expected, answer.helperLogits) }
        t.log(`torch ${answer.torch}, weights read by ${answer.reader}; relative errors ${JSON.stringify(errors)}`)
        for (const [what, error] of Object.entries(errors)) t.true(error <= TOLERANCE, `${what}: relative error ${error} > ${TOLERANCE}`)
        model.dispose()
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  }
}
