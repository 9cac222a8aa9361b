// The probe of issue #12, kept: bad input that used to crash, hang, build a huge message, fail
// late with a raw libtorch error, or be ignored, is a typed error that names the field, shows
// the value in a few characters and says what was expected.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CheckpointError, Dataset, InvalidArgumentError, Model, parseSchedule, splitTorchMessage, train } from '../src/index'
import { mnist } from './helpers/mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const convtorch = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 })

async function small() {
  const { train: full, test: fullTest } = await mnist()
  return { train: full.slice(0, 100), test: fullTest.slice(0, 50) }
}

test('--out naming a file is refused before any training, naming the path', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'convtorch-out-file-')), 'taken')
  await writeFile(file, 'not a directory')
  const error = await t.throwsAsync(train({ data: await small(), out: file, device: 'cpu' }), { instanceOf: CheckpointError })
  t.is(error!.message, `${file}: cannot hold a run: a file is there where a directory is needed (EEXIST)`)
  const nested = await t.throwsAsync(train({ data: await small(), out: join(file, 'run'), device: 'cpu' }), { instanceOf: CheckpointError })
  t.is(nested!.message, `${join(file, 'run')}: cannot hold a run: a part of the path is a file, not a directory (ENOTDIR)`)
  const run = convtorch(['train', '--out', file, '--epochs', '1'])
  t.is(run.status, 1)
  t.is(run.stderr, `convtorch: ${file}: cannot hold a run: a file is there where a directory is needed (EEXIST)\n`)
})

test('dropLast with a batch larger than the training set is refused instead of training nothing', async (t) => {
  await t.throwsAsync(train({ data: await small(), batchSize: 128, dropLast: true, device: 'cpu' }), {
    instanceOf: InvalidArgumentError,
    message: 'train(): batchSize must be at most the 100 training examples when dropLast is true (every batch would be dropped and nothing trained), got 128',
  })
})

test('messages show a value in a few characters, however large it is', async (t) => {
  const { train: full } = await mnist()
  const forgotTest = await t.throwsAsync(train({ data: { train: full } as never }), { instanceOf: InvalidArgumentError })
  t.is(forgotTest!.message, 'train(): data.test must be a Dataset (Dataset.fromArrays(), loadMnist(), loadIdx()), got undefined')
  const wrong = await t.throwsAsync(train({ data: { train: full, test: { images: full.images } } as never }), { instanceOf: InvalidArgumentError })
  t.true(wrong!.message.length < 200, `${wrong!.message.length} characters`)
  t.regex(wrong!.message, /got \{ images: (Buffer|Uint8Array)\(47040000\) \[0, 0, 0, 0, … 47039996 more\] \}$/)
  const int8 = t.throws(() => Dataset.fromArrays({ images: new Int8Array(784 * 1000) as never, labels: [], shape: [1, 28, 28], classes: 10 }), { instanceOf: InvalidArgumentError })
  t.is(int8!.message, 'Dataset.fromArrays(): images must be a Uint8Array or a Float32Array, got Int8Array(784000) [0, 0, 0, 0, … 783996 more]')
  const model = Model.create({ device: 'cpu' })
  const plain = t.throws(() => model.predict(Object.fromEntries(Array.from({ length: 784 }, (_, i) => [i, 0])) as never), { instanceOf: InvalidArgumentError })
  t.true(plain!.message.length <= 120, plain!.message)
  t.regex(plain!.message, /^predict\(\): images must be a Float32Array, got \{ 0: 0, 1: 0, 2: 0, 3: 0, … 780 more \}$/)
})

test('values outside what float32 and the core can hold are refused up front', async (t) => {
  await t.throwsAsync(train({ lr: 1e308 }), { instanceOf: InvalidArgumentError, message: 'train(): lr must be a number in (0, 3.4e38] (a float32), got 1e+308' })
  await t.throwsAsync(train({ batchSize: 2 ** 63 }), { instanceOf: InvalidArgumentError, message: 'train(): batchSize must be an integer in [1, 2147483647], got 9223372036854776000' })
  t.throws(() => parseSchedule('oneCycle:maxLr=1e308'), { instanceOf: InvalidArgumentError, message: '--schedule: schedule.maxLr must be a number in (0, 3.4e38] (a float32), got 1e+308' })
  const run = convtorch(['train', '--lr', '1e308', '--epochs', '1'])
  t.is(run.status, 2)
  t.is(run.stderr, 'convtorch: train(): lr must be a number in (0, 3.4e38] (a float32), got 1e+308\n')
})

test("a TorchError carries libtorch's message, with the C++ frames kept apart in detail", (t) => {
  const raw = 'shape mismatch: [3, 4] vs [5]\nException raised from check_shape at /pytorch/aten/src/ATen/native/X.cpp:42 (most recent call first):\nframe #0: c10::Error::Error(...) + 0x9c\nframe #1: at::native::f() + 0x10'
  const { message, detail } = splitTorchMessage(raw)
  t.is(message, 'shape mismatch: [3, 4] vs [5]')
  t.regex(detail!, /^Exception raised from check_shape/)
  t.regex(detail!, /frame #1/)
  t.deepEqual(splitTorchMessage('plain message'), { message: 'plain message', detail: null })
})

test('typos in schedules and optimizers are refused, not ignored', async (t) => {
  t.throws(() => parseSchedule('step:stepSize=3,foo=1'), { instanceOf: InvalidArgumentError, message: "--schedule: schedule.foo must be left out: a 'step' schedule takes stepSize, gamma, per, got 1" })
  t.throws(() => parseSchedule('step:stepSize=1:gamma=2'), { instanceOf: InvalidArgumentError, message: /^--schedule: each setting must be key=value, settings separated by ',' \(step:stepSize=3,gamma=0.5\), got 'stepSize=1:gamma=2'$/ })
  t.throws(() => parseSchedule('step:stepSize=1,stepSize=2'), { instanceOf: InvalidArgumentError, message: /stepSize must be given once/ })
  await t.throwsAsync(train({ schedule: { kind: 'cosine', minLR: 0.001 } as never }), { instanceOf: InvalidArgumentError, message: "train(): schedule.minLR must be left out: a 'cosine' schedule takes minLr, per, got 0.001" })
  await t.throwsAsync(train({ optimizer: { kind: 'sgd', lr: 0.1, momentun: 0.9 } as never }), { instanceOf: InvalidArgumentError, message: "train(): optimizer.momentun must be left out: 'sgd' takes lr, momentum, dampening, weightDecay, nesterov, got 0.9" })
})

test('labels are not coerced, and wrong argument types are InvalidArgumentErrors, not plain Errors', async (t) => {
  const images = new Uint8Array(3 * 784)
  for (const [label, shown] of [[1.5, '1.5'], [Number.NaN, 'NaN'], ['3', "'3'"]] as const) {
    t.throws(() => Dataset.fromArrays({ images, labels: [0, label as number, 2], shape: [1, 28, 28], classes: 10 }), { instanceOf: InvalidArgumentError, message: `Dataset.fromArrays(): labels[1] must be a class index in [0, 10), got ${shown}` })
  }
  await t.throwsAsync(train({ data: { train: 1, test: 2 } as never }), { instanceOf: InvalidArgumentError, message: /data\.train must be a Dataset .*, got 1$/ })
  const model = Model.create({ device: 'cpu' })
  t.throws(() => model.setLearningRate('0.1' as never), { instanceOf: InvalidArgumentError, message: "setLearningRate(): lr must be a number in (0, 3.4e38] (a float32), got '0.1'" })
  t.throws(() => model.parameter(5 as never), { instanceOf: InvalidArgumentError, message: /^parameter\(\): name must be a parameter name such as 'conv_1.weight' \(see parameterNames\(\)\), got 5$/ })
  t.throws(() => Model.create({ init: 5 as never }), { instanceOf: InvalidArgumentError, message: "Model.create(): init must be 'seed', 'default', 'xavier', got 5" })
  t.throws(() => Model.create({ fastPaths: 'yes' as never }), { instanceOf: InvalidArgumentError, message: "Model.create(): fastPaths must be true or false, got 'yes'" })
  // Below the TS checks, napi-rs's own type errors are typed too.
  const native = t.throws(() => (model as unknown as { quick: (what: string, body: () => unknown) => unknown }).quick('x', () => (model as unknown as { handle: { setLearningRate(v: unknown): void } }).handle.setLearningRate('0.1')))
  t.true(native instanceof InvalidArgumentError, String(native))
  const normaliseNull = await train({ data: await small(), normalise: null as never, epochs: 1, device: 'cpu', trainAccuracy: false })
  t.is(normaliseNull.options.normalise, null)
})

test('summary and train read a spec file through the same validator: an unknown field or null is refused by both', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-spec-files-'))
  const slope = join(dir, 'slope.json')
  await writeFile(slope, JSON.stringify({ input: [1, 28, 28], classes: 10, layers: [{ type: 'relu', slope: 2 }, { type: 'flatten' }, { type: 'linear', units: 10 }] }))
  const empty = join(dir, 'null.json')
  await writeFile(empty, 'null')
  for (const [file, message] of [[slope, "layer 0 (relu) has no field 'slope'; it takes no fields"], [empty, 'a model spec must be an object { input, classes, layers }, got null']]) {
    for (const command of ['summary', 'train']) {
      const run = convtorch([command, '--model', file, '--epochs', '1'].slice(0, command === 'summary' ? 3 : 5))
      t.is(run.status, 1, `${command} ${file}: ${run.stderr}`)
      t.is(run.stderr, `convtorch: ${file}: ${message}\n`, `${command} ${file}`)
    }
  }
})
