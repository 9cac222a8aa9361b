// Property-based tests (fast-check) of every reader of outside data: arbitrary bytes, JSON and
// specs give a value or a typed ConvtorchError, never a crash, a hang or an untyped exception.
// CONVTORCH_PROPERTY_RUNS sets the cases per target (default 1,000; a nightly-sized run:
// CONVTORCH_PROPERTY_RUNS=100000).
import test from 'ava'
import fc from 'fast-check'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { checkModelDescription, checkTrainingState } from '../src/checkpoint/contents'
import { parseCifarBatch, parseCifarMeta, CIFAR_RECORD_BYTES } from '../src/data/cifar'
import { readImageBytes, sharp } from '../src/image/decode'
import { ConvtorchError, encodeIdx, inferShapes, Model, parseIdx, parseSchedule, seedSpec, type ModelSpec } from '../src/index'

const RUNS = Number(process.env.CONVTORCH_PROPERTY_RUNS ?? 1000)
/** Targets that touch files or the native core run a tenth as many cases. */
const SLOW_RUNS = Math.max(50, Math.floor(RUNS / 10))

/** Runs `body`; a thrown error must be one of `types` (typed), anything else fails the property. */
function valueOrTyped(body: () => unknown, ...types: Array<abstract new (...args: never[]) => ConvtorchError>): void {
  try {
    body()
  } catch (error) {
    if (!types.some((type) => error instanceof type)) throw new Error(`untyped or unexpected error: ${String(error)}`, { cause: error })
  }
}

async function valueOrTypedAsync(body: () => Promise<unknown>, ...types: Array<abstract new (...args: never[]) => ConvtorchError>): Promise<void> {
  try {
    await body()
  } catch (error) {
    if (!types.some((type) => error instanceof type)) throw new Error(`untyped or unexpected error: ${String(error)}`, { cause: error })
  }
}

/** IDX bytes that are often nearly right: a valid header with a mutated byte, a cut, or gzip. */
const idxBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }), fc.nat(40), fc.nat(255), fc.nat(255))
    .map(([dims, cut, at, value]) => {
      const valid = encodeIdx(dims, new Uint8Array(dims.reduce((a, b) => a * b, 1)))
      const bytes = valid.slice(0, Math.max(0, valid.length - (cut % (valid.length + 1))))
      if (bytes.length > 0) bytes[at % bytes.length] = value
      return bytes
    }),
  fc.uint8Array({ maxLength: 64 }).map((raw) => new Uint8Array(gzipSync(raw))),
  fc.uint8Array({ maxLength: 64 }).map((raw) => {
    const gz = new Uint8Array(gzipSync(raw))
    gz[raw.length % gz.length] ^= 0x5a
    return gz
  }),
)

test('parseIdx: arbitrary and damaged bytes give an array or a DatasetError', (t) => {
  fc.assert(
    fc.property(idxBytes, (bytes) => valueOrTyped(() => parseIdx(bytes, 'fuzz'), ConvtorchError)),
    { numRuns: RUNS },
  )
  t.pass()
})

test('parseCifarBatch and parseCifarMeta: arbitrary bytes and text give records or a DatasetError', (t) => {
  const batch = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 3 }).chain((n) => fc.uint8Array({ minLength: n * CIFAR_RECORD_BYTES, maxLength: n * CIFAR_RECORD_BYTES })))
  fc.assert(
    fc.property(batch, fc.integer({ min: 0, max: 300 }), fc.string(), (bytes, classes, text) => {
      valueOrTyped(() => parseCifarBatch(bytes, 'fuzz', classes), ConvtorchError)
      valueOrTyped(() => parseCifarMeta(text, 'fuzz'), ConvtorchError)
    }),
    { numRuns: RUNS },
  )
  t.pass()
})

/** Values a spec field might hold: mostly plausible, sometimes absurd. */
const fieldValue = fc.oneof(
  fc.integer({ min: -2, max: 12 }),
  fc.constantFrom('same', 'valid', 'full', 'x', '', null, true, 1.5, Number.NaN, 1e9, -0),
  fc.tuple(fc.integer({ min: -1, max: 6 }), fc.integer({ min: -1, max: 6 })),
  fc.anything({ maxDepth: 2 }),
)
const layerTypes = ['conv2d', 'maxPool2d', 'avgPool2d', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'dropout', 'flatten', 'linear', 'conv3d']
const fieldNames = ['filters', 'kernel', 'stride', 'padding', 'units', 'inputs', 'p', 'slope', 'name', 'dilation']
const layer = fc
  .tuple(fc.constantFrom(...layerTypes), fc.dictionary(fc.constantFrom(...fieldNames), fieldValue, { maxKeys: 4 }))
  .map(([type, fields]) => ({ type, ...fields }))
/** Specs that are often valid: image layers of small sizes, then flatten and the class scores. */
const imageLayer = fc.oneof(
  fc.record({ type: fc.constant('conv2d'), filters: fc.integer({ min: 1, max: 4 }), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), padding: fc.constantFrom(0, 1, 'same', 'valid', 'full') }),
  fc.record({ type: fc.constantFrom('maxPool2d', 'avgPool2d'), kernel: fc.integer({ min: 1, max: 3 }), padding: fc.constantFrom(0, 1) }),
  fc.record({ type: fc.constantFrom('relu', 'sigmoid', 'tanh', 'flatten') }).filter((l) => l.type !== 'flatten'),
  fc.record({ type: fc.constant('leakyRelu'), slope: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ type: fc.constant('dropout'), p: fc.double({ min: 0, max: 0.9, noNaN: true }) }),
)
const plausibleSpec = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 5 }), fc.array(imageLayer, { maxLength: 5 }), fc.boolean())
  .map(([c, h, w, classes, layers, hidden]) => ({
    input: [c, h, w],
    classes,
    layers: [...layers, { type: 'flatten' }, ...(hidden ? [{ type: 'linear', units: 6 }, { type: 'relu' }] : []), { type: 'linear', units: classes }],
  }))
const spec = fc.oneof(
  plausibleSpec,
  fc.record({
    input: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 })), fieldValue),
    classes: fc.oneof(fc.integer({ min: 0, max: 12 }), fieldValue),
    layers: fc.array(layer, { maxLength: 6 }),
  }),
  fc.anything({ maxDepth: 3 }),
)

test('inferShapes: arbitrary specs give shapes or a ModelSpecError', (t) => {
  fc.assert(
    fc.property(spec, (candidate) => valueOrTyped(() => inferShapes(candidate as ModelSpec), ConvtorchError)),
    { numRuns: RUNS },
  )
  t.pass()
})

test('a spec that inferShapes() accepts is one the native core builds: the two agree', (t) => {
  let built = 0
  fc.assert(
    fc.property(spec, (candidate) => {
      try {
        inferShapes(candidate as ModelSpec)
      } catch {
        return
      }
      // Accepted by the one validator: the core must build it without a spec error of its own.
      Model.create({ model: candidate as ModelSpec, device: 'cpu' }).dispose()
      built++
    }),
    { numRuns: SLOW_RUNS * 5 },
  )
  t.log(`${built} accepted specs built natively`)
  t.true(built > 0, 'the generator produced valid specs too')
})

/** A valid model.json with one field replaced by an arbitrary value (or the whole of it). */
const description = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.tuple(fc.constantFrom('format', 'version', 'spec', 'optimizer', 'seed', 'init', 'normalise', 'classNames', 'integrity'), fc.anything({ maxDepth: 2 })).map(([field, value]) => ({
    format: 'convtorch-model',
    version: 2,
    spec: seedSpec(),
    optimizer: { kind: 'sgd', lr: 0.05 },
    seed: 1,
    init: 'seed',
    normalise: null,
    classNames: null,
    [field]: value,
  })),
)

test('the checkpoint reader: arbitrary model.json and training.json give a description or a CheckpointError', (t) => {
  fc.assert(
    fc.property(description, fc.anything({ maxDepth: 3 }), (model, training) => {
      valueOrTyped(() => checkModelDescription('model.json', model), ConvtorchError)
      valueOrTyped(() => checkTrainingState('training.json', training), ConvtorchError)
    }),
    { numRuns: RUNS },
  )
  t.pass()
})

test('parseSchedule: arbitrary --schedule text gives a schedule or an InvalidArgumentError', (t) => {
  const text = fc.oneof(fc.string(), fc.tuple(fc.constantFrom('step', 'cosine', 'oneCycle', 'exponential', 'constant', 'x'), fc.string()).map(([k, rest]) => `${k}:${rest}`))
  fc.assert(
    fc.property(text, (value) => valueOrTyped(() => parseSchedule(value), ConvtorchError)),
    { numRuns: RUNS },
  )
  t.pass()
})

test('the image decoder: arbitrary and damaged files give pixels or an ImageError', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-fuzz-images-'))
  const png = await sharp()({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toBuffer()
  const damaged = fc.tuple(fc.nat(png.length - 1), fc.nat(255), fc.nat(png.length)).map(([at, value, cut]) => {
    const bytes = Buffer.from(png.subarray(0, Math.max(8, cut)))
    bytes[at % bytes.length] = value
    return bytes
  })
  let index = 0
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 64 }), damaged), async (bytes) => {
      const file = join(dir, `case-${index++}.png`)
      await writeFile(file, bytes)
      await valueOrTypedAsync(() => readImageBytes(file, { channels: 1, height: 8, width: 8 }), ConvtorchError)
    }),
    { numRuns: SLOW_RUNS },
  )
  t.pass()
})
