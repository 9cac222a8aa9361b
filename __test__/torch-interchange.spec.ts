import test from 'ava'
import { execFileSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundledMnistDir, evaluate, Model, train } from '../src/index'
import { mnist } from './helpers/mnist'
import { pythonWith, relativeError, runTorchScript, torchMissing } from './helpers/torch'

// The fixture reads (and writes) weights with the safetensors package.
const torch = pythonWith(['torch', 'safetensors'])
const cli = join(__dirname, '..', 'src', 'cli', 'main.js')

test('a state_dict saved by PyTorch loads with --weights and predicts the labels PyTorch predicts', async (t) => {
  if ('reason' in torch) return torchMissing(t, torch.reason, 'torch with safetensors')
  const weights = join(await mkdtemp(join(tmpdir(), 'convtorch-from-torch-')), 'torch.safetensors')
  const expected = runTorchScript<{ labels: number[]; accuracy: number }>(torch.python, 'torch_interchange.py', { mode: 'train', mnist: bundledMnistDir(), weights, seed: 0, examples: 6400, steps: 300 })
  const model = Model.create({ model: 'seed', device: 'cpu' })
  model.loadWeights(weights)
  const { test: testSet } = await mnist()
  const evaluation = await model.evaluate(testSet.toDevice('cpu'))
  const same = expected.labels.filter((label, i) => label === evaluation.predictions[i]).length
  t.log(`PyTorch's test accuracy ${(expected.accuracy * 100).toFixed(2)}%, convtorch's with its weights ${(evaluation.accuracy * 100).toFixed(2)}%; same label for ${same} of 10000 images`)
  t.true(expected.accuracy > 0.9, 'PyTorch trained a real model')
  t.true(same >= 9_995, `${same} of 10000 labels agree`)
  const report = JSON.parse(execFileSync(process.execPath, [cli, 'eval', '--model', 'seed', '--weights', weights, '--device', 'cpu', '--json'], { encoding: 'utf8' }))
  t.is(report.accuracy, evaluation.accuracy, 'convtorch eval --model seed --weights torch.safetensors')
  t.is(report.weights, weights)
})

test("convtorch's weights.safetensors loads strictly into the seed script's own PyTorch module, same logits", async (t) => {
  if ('reason' in torch) return torchMissing(t, torch.reason, 'torch with safetensors')
  const { train: full, test: fullTest } = await mnist()
  const out = await mkdtemp(join(tmpdir(), 'convtorch-to-torch-'))
  const result = await train({ data: { train: full.slice(0, 3_000), test: fullTest.slice(0, 500) }, epochs: 1, device: 'cpu', out, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 } })
  const count = 64
  const expected = runTorchScript<{ logits: number[] }>(torch.python, 'torch_interchange.py', { mode: 'logits', mnist: bundledMnistDir(), weights: join(out, 'checkpoint', 'weights.safetensors'), count })
  const images = Float32Array.from(fullTest.images.subarray(0, count * 784) as Uint8Array, (v) => v / 255)
  const error = relativeError(result.model.logits(images), expected.logits)
  t.log(`relative error of the logits: ${error.toExponential(2)}`)
  t.true(error <= 1e-5, `relative error ${error}`)
  const report = await evaluate(result.model, fullTest.slice(0, 500))
  t.is(report.accuracy, result.test.accuracy, 'evaluate() of the run gives the run\'s own test result')
})
