import test from 'ava'
import { cuda, DisposedError, Model, OutOfMemoryError, runtimeInfo, train, type DeviceDataset, type OptimizerOptions } from '../src/index'
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

test('a CPU model says why its steps are not captured, and train() warns instead of ignoring cudaGraph', async (t) => {
  const model = Model.create({ device: 'cpu' })
  t.is(model.setCudaGraph(true), 'the model is not on a CUDA device')
  model.dispose()
  const warnings: Error[] = []
  const listener = (warning: Error) => warnings.push(warning)
  process.on('warning', listener)
  try {
    const { train: full, test: fullTest } = await mnist()
    await train({ data: { train: full.slice(0, 256), test: fullTest.slice(0, 64) }, epochs: 1, device: 'cpu', cudaGraph: true, trainAccuracy: false })
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  const warning = warnings.find((w) => (w as { code?: string }).code === 'CONVTORCH_CUDA_GRAPH')
  t.truthy(warning, 'a CONVTORCH_CUDA_GRAPH warning')
  t.regex(warning!.message, /cudaGraph: training steps are not captured \(the model is not on a CUDA device\)/)
})

test("cuda.setCudnn() sets torch.backends.cudnn's flags and returns them as they were", (t) => {
  const before = cuda.setCudnn({ benchmark: true, deterministic: true, allowTf32: false })
  t.deepEqual(cuda.setCudnn({}), { benchmark: true, deterministic: true, allowTf32: false })
  cuda.setCudnn(before)
  t.deepEqual(cuda.setCudnn({}), before)
})

test('the CUDA extensions library is reported: loaded where libtorch has CUDA, or why not', (t) => {
  if (info.cudaLibrary === 'loaded') {
    // CI builds it against the CUDA wheel it installs (CONVTORCH_REQUIRE_CUDA_LIBRARY=1).
    t.regex(info.cudaExtensions ?? '', /libconvtorch_cuda\.so$/, info.cudaExtensionsAbsence ?? '')
  } else {
    t.is(info.cudaExtensions ?? null, null)
    t.truthy(info.cudaExtensionsAbsence)
  }
  if (!info.cudaAvailable) t.throws(() => cuda.memory(0), { message: /CUDA/ })
})

/** Every example index of `data` once, in order. */
function inOrder(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i)
}

/** Trains two fresh CUDA models (same seed) on the same batches, one with captured steps, in
 *  two calls (the second replays the graph the first captured); returns the largest differences. */
async function graphAgainstEager(data: DeviceDataset, optimizer: OptimizerOptions, rates: number[]) {
  const eager = Model.create({ seed: 3, device: 'cuda:0', optimizer, init: 'default' })
  const graphed = Model.create({ seed: 3, device: 'cuda:0', optimizer, init: 'default' })
  const obstacle = graphed.setCudaGraph(true)
  const half = Math.floor(data.count / 2)
  const calls: [Uint32Array, number[]][] = [[inOrder(data.count).subarray(0, half), rates.slice(0, Math.ceil(half / 64))], [inOrder(data.count).subarray(half), rates.slice(Math.ceil(half / 64))]]
  let loss = 0
  for (const [order, callRates] of calls) {
    const a = await eager.trainBatches(data, order, 64, callRates)
    const b = await graphed.trainBatches(data, order, 64, callRates)
    for (let i = 0; i < a.length; i++) loss = Math.max(loss, Math.abs(a[i] - b[i]))
  }
  let weights = 0
  for (const name of eager.parameterNames()) weights = Math.max(weights, relativeError(graphed.parameter(name).values, eager.parameter(name).values))
  eager.dispose()
  graphed.dispose()
  return { obstacle, loss, weights }
}

if (!info.cudaAvailable) {
  test('CUDA tests', (t) => {
    t.log(`skipped: CUDA is not available here (${info.cudaAbsenceReason})`)
    t.pass()
  })
} else {
  test.serial('CUDA: the same seed gives the same initial weights and, to tolerance, the same step as the CPU', async (t) => {
    // PyTorch's default lets cuDNN convolve in TF32 (a 10-bit mantissa): ~1e-3 from the CPU.
    const flags = cuda.setCudnn({ allowTf32: false })
    t.teardown(() => cuda.setCudnn(flags))
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

  test.serial('CUDA graph: captured steps give the losses and weights of eager steps (Adam, a per-step schedule, a partial last batch)', async (t) => {
    const { train: full } = await mnist()
    // 2 calls of 3,215 examples: 50 full batches of 64 and a partial one each, 102 steps.
    const data = full.slice(0, 6430).toDevice('cuda:0')
    // Reproducible cuDNN algorithms: both models are then the same computation, run twice.
    const flags = cuda.setCudnn({ deterministic: true })
    t.teardown(() => cuda.setCudnn(flags))
    const rates = Array.from({ length: 102 }, (_, i) => 1e-3 * (1 - i / 204))
    const adam = await graphAgainstEager(data, { kind: 'adam', lr: 1e-3, weightDecay: 1e-4 }, rates)
    const momentum = await graphAgainstEager(data, { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, rates.map((r) => r * 50))
    data.dispose()
    t.log(JSON.stringify({ adam, momentum }))
    for (const [what, result] of Object.entries({ adam, momentum })) {
      t.is(result.obstacle, null, what)
      t.true(result.loss < 1e-5, `${what} losses: ${result.loss}`)
      t.true(result.weights < 1e-5, `${what} weights: ${result.weights}`)
    }
  })

  test.serial('CUDA graph: train({ cudaGraph }) learns, and says how fast', async (t) => {
    const { train: full, test: fullTest } = await mnist()
    const options = { data: { train: full, test: fullTest.slice(0, 2000) }, epochs: 2, batchSize: 64, device: 'cuda', trainAccuracy: false, evaluateEachEpoch: false } as const
    const eager = await train(options)
    const graphed = await train({ ...options, cudaGraph: true })
    const seconds = (r: typeof eager) => r.history.epochs.map((e) => e.seconds.train.toFixed(3)).join(', ')
    t.log(`eager epochs ${seconds(eager)} s; captured ${seconds(graphed)} s; accuracy ${eager.test.accuracy} vs ${graphed.test.accuracy}`)
    t.true(graphed.test.accuracy > 0.95)
    t.true(Math.abs(graphed.test.accuracy - eager.test.accuracy) < 0.01)
  })

  test.serial('CUDA: dispose() hands a model\'s and a dataset\'s device memory back', async (t) => {
    const { train: full } = await mnist()
    const round = async () => {
      const data = full.toDevice('cuda:0')
      const model = Model.create({ device: 'cuda:0' })
      model.setCudaGraph(true)
      await model.trainBatches(data, inOrder(6400), 64)
      const held = cuda.memory(0).freeBytes
      data.dispose()
      model.dispose()
      return held
    }
    await round() // cuBLAS and cuDNN handles and workspaces stay for the process's life
    const before = cuda.memory(0).freeBytes
    const during = await round()
    const after = cuda.memory(0).freeBytes
    t.log(`free: ${(before / 2 ** 20).toFixed(0)} MiB before, ${(during / 2 ** 20).toFixed(0)} MiB during, ${(after / 2 ** 20).toFixed(0)} MiB after`)
    t.true(before - during > 150 * 2 ** 20, 'the dataset (188 MB) held memory while alive')
    t.true(before - after < 16 * 2 ** 20, `${((before - after) / 2 ** 20).toFixed(1)} MiB not returned`)
  })

  test.serial('CUDA: running out of device memory is an OutOfMemoryError, and the model trains on', async (t) => {
    const { train: full } = await mnist()
    const data = full.slice(0, 10_000).toDevice('cuda:0')
    const model = Model.create({ device: 'cuda:0' })
    // One batch of 8M examples: its gathered images alone are 25 GB, its first activations far
    // more than the device's 141 GB.
    const huge = Uint32Array.from({ length: 8_000_000 }, (_, i) => i % 10_000)
    const error = await t.throwsAsync(model.trainBatches(data, huge, 8_000_000), { instanceOf: OutOfMemoryError })
    t.log(error?.message)
    t.regex(error?.message ?? '', /out of memory/i)
    const losses = await model.trainBatches(data, inOrder(640), 64)
    t.true(losses.every(Number.isFinite))
    data.dispose()
    model.dispose()
  })

  test.serial('NCCL: a world of one rank trains on CUDA', async (t) => {
    const { train: full, test: fullTest } = await mnist()
    const result = await train({ data: { train: full.slice(0, 12_800), test: fullTest.slice(0, 2000) }, epochs: 1, device: 'cuda:0', distributed: { rank: 0, worldSize: 1, masterPort: 0, backend: 'nccl', timeoutSeconds: 60 } })
    t.log(`NCCL world of 1: accuracy ${result.test.accuracy}`)
    t.true(result.test.accuracy > 0.8)
  })
}
