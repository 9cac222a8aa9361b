import test from 'ava'
import { ConvtorchError, DeviceUnavailableError, ERROR_CLASSES, fromNative, InternalError, InvalidArgumentError, Model, ModelSpecError, seedSpec, type Device } from '../src/index'
import { native } from '../src/native'

test('trainStep() refuses a batch whose pixel count does not match the labels', (t) => {
  const model = Model.create({ device: 'cpu' })
  const error = t.throws(() => model.trainStep(new Float32Array(784 * 3), [1, 2]), { instanceOf: InvalidArgumentError })
  t.regex(error!.message, /images must be 2 x 1 x 28 x 28 = 1568 values, got 2352 values/)
  t.is(error!.code, 'CONVTORCH_INVALID_ARGUMENT')
})

test('trainStep() refuses labels outside [0, classes)', (t) => {
  const model = Model.create({ device: 'cpu' })
  const error = t.throws(() => model.trainStep(new Float32Array(784 * 2), [3, 10]), { instanceOf: InvalidArgumentError })
  t.regex(error!.message, /labels\[1\] must be a class index in \[0, 10\), got 10/)
  t.throws(() => model.trainStep(new Float32Array(784), [-1]), { instanceOf: InvalidArgumentError })
})

test('an unknown device name is an InvalidArgumentError naming the value', (t) => {
  const error = t.throws(() => Model.create({ device: 'tpu:0' as Device }), { instanceOf: InvalidArgumentError })
  t.regex(error!.message, /device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu:0'/)
})

test('a CUDA device that this machine lacks is a DeviceUnavailableError', (t) => {
  const error = t.throws(() => Model.create({ device: 'cuda:63' }), { instanceOf: DeviceUnavailableError })
  t.regex(error!.message, /cuda:63/)
})

test('a bad seed is refused before anything native runs', (t) => {
  t.throws(() => Model.create({ seed: -1 }), { instanceOf: InvalidArgumentError, message: /seed must be a non-negative integer, got -1/ })
})

test('an impossible spec is a ModelSpecError naming the layer and the shapes', (t) => {
  const spec = seedSpec()
  spec.layers[7] = { type: 'linear', name: 'linear_1', units: 10, inputs: 800 }
  t.throws(() => Model.create({ model: spec }), { instanceOf: ModelSpecError, message: 'layer 7 (linear) expects 800 inputs, the layer before gives 784' })
})

test('the model keeps working after a refused call', (t) => {
  const model = Model.create({ device: 'cpu' })
  t.throws(() => model.trainStep(new Float32Array(5), [0]))
  const loss = model.trainStep(new Float32Array(784 * 2), [0, 1])
  t.true(Number.isFinite(loss))
})

test('every error code the addon can raise has its own TypeScript class', (t) => {
  const codes = native().errorCodes()
  t.true(codes.length >= 8, codes.join(', '))
  for (const code of codes) {
    const error = fromNative(new Error(`${code}: something happened`))
    t.true(error instanceof ConvtorchError, code)
    t.is((error as ConvtorchError).code, code)
    t.is(ERROR_CLASSES[code], (error as object).constructor as never, `${code} has a class of its own`)
    if (code !== 'CONVTORCH_INTERNAL') t.false(error instanceof InternalError, `${code} is not turned into InternalError`)
  }
})
