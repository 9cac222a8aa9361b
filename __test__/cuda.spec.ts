import test from 'ava'
import { cuda, DisposedError, Model, runtimeInfo, train } from '../src/index'
import { firstBatch, mnist } from './helpers/mnist'
import { relativeError } from './helpers/torch'

const info = runtimeInfo()

test('runtimeInfo() agrees with itself about CUDA', (t) => {
  t.is(info.cudaAvailable, info.cudaDeviceCount > 0)
  t.is(info.cudaDevices.length, info.cudaDeviceCount)
  t.is(cuda.isAvailable(), info.cudaAvailable)
  if (!info.cudaAvailable) t.truthy(info.cudaAbsenceReason)
})

test('dispose() frees a model: later calls throw DisposedError', (t) => {
  const model = Model.create({ device: 'cpu' })
  model.dispose()
  t.throws(() => model.parameterNames(), { instanceOf: DisposedError, message: /this model was disposed/ })
})

if (!info.cudaAvailable) {
  test('CUDA tests', (t) => {
    t.log(`skipped: CUDA is not available here (${info.cudaAbsenceReason})`)
    t.pass()
  })
} else {
  test('CUDA: the same seed gives the same initial weights and, to tolerance, the same step as the CPU', async (t) => {
    const onCpu = Model.create({ seed: 11, device: 'cpu' })
    const onGpu = Model.create({ seed: 11, device: 'cuda:0' })
    t.is(onGpu.device, 'cuda:0')
    for (const name of onCpu.parameterNames()) t.deepEqual(onGpu.parameter(name).values, onCpu.parameter(name).values)
    const { images, labels } = await firstBatch(64)
    const errors: Record<string, number> = { logits: relativeError(onGpu.logits(images), onCpu.logits(images)) }
    errors.loss = Math.abs(onGpu.trainStep(images, labels) - onCpu.trainStep(images, labels))
    for (const name of onCpu.parameterNames()) errors[name] = relativeError(onGpu.parameter(name).values, onCpu.parameter(name).values)
    t.log(JSON.stringify(errors))
    for (const [what, error] of Object.entries(errors)) t.true(error < 1e-4, `${what}: ${error}`)
  })

  test('CUDA: a short training run learns', async (t) => {
    const { train: full, test: fullTest } = await mnist()
    const result = await train({ data: { train: full.slice(0, 25_600), test: fullTest.slice(0, 2000) }, epochs: 1, batchSize: 64, device: 'cuda', init: 'default' })
    t.is(result.model.device, 'cuda:0')
    t.log(`CUDA test accuracy ${(result.test.accuracy * 100).toFixed(2)}% in ${result.timings.trainSeconds.toFixed(2)} s`)
    t.true(result.test.accuracy > 0.8)
  })

  test('CUDA: datasets and models are freed by dispose()', async (t) => {
    const { train: full } = await mnist()
    const data = full.slice(0, 1000).toDevice('cuda:0')
    const model = Model.create({ device: 'cuda:0' })
    await model.trainBatches(data, Uint32Array.from({ length: 1000 }, (_, i) => i), 100)
    data.dispose()
    model.dispose()
    await t.throwsAsync(model.evaluate(data), { instanceOf: DisposedError })
  })
}
