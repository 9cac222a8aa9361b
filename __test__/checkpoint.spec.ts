import test from 'ava'
import { lstatSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CheckpointError, Model, train, type ModelSpec } from '../src/index'
import { firstBatch, mnist } from './helpers/mnist'

const temp = (name: string) => mkdtemp(join(tmpdir(), `convtorch-${name}-`))
const weightsOf = (model: Model) => Object.fromEntries(Object.entries(model.parameters()).map(([name, p]) => [name, Array.from(p.values)]))

async function trainedAdamRun(): Promise<{ out: string; model: Model }> {
  const { train: full, test: fullTest } = await mnist()
  const out = await temp('adam-run')
  const result = await train({ data: { train: full.slice(0, 640), test: fullTest.slice(0, 100) }, epochs: 1, device: 'cpu', out, optimizer: { kind: 'adam', lr: 0.002, beta1: 0.8 } })
  return { out, model: result.model }
}

test('Model.load restores the optimizer and its state: the next step is the step the run would take', async (t) => {
  const { out, model } = await trainedAdamRun()
  const loaded = await Model.load(out, { device: 'cpu' })
  t.deepEqual(loaded.optimizer, { kind: 'adam', lr: 0.002, beta1: 0.8 })
  const fresh = Model.create({ device: 'cpu', optimizer: loaded.optimizer })
  fresh.loadWeights(join(out, 'checkpoint', 'weights.safetensors'))
  const { images, labels } = await firstBatch(32)
  for (const m of [model, loaded, fresh]) m.trainStep(images, labels)
  t.deepEqual(weightsOf(loaded), weightsOf(model), 'same weights and same Adam moments: the same step')
  t.notDeepEqual(weightsOf(fresh), weightsOf(model), 'without the moments the step differs')
})

test('Model.save writes a link to a complete version; saving again replaces it and removes the old one', async (t) => {
  const dir = await temp('save')
  const model = Model.create({ device: 'cpu' })
  await model.save(join(dir, 'mine'))
  t.true(lstatSync(join(dir, 'mine')).isSymbolicLink())
  model.setParameter('linear_1.bias', new Float32Array(10).fill(0.5))
  await model.save(join(dir, 'mine'))
  const again = await Model.load(join(dir, 'mine'), { device: 'cpu' })
  t.deepEqual(Array.from(again.parameter('linear_1.bias').values), Array(10).fill(0.5))
  const { readdir } = await import('node:fs/promises')
  t.is((await readdir(dir)).length, 2, 'the link and one version')
})

test('a checkpoint saved as a plain directory by convtorch 0.1 still loads, and a save over it migrates', async (t) => {
  const dir = join(await temp('legacy'), 'checkpoint')
  const model = Model.create({ device: 'cpu', init: 'default' })
  await mkdir(dir)
  model.saveWeights(join(dir, 'weights.safetensors'))
  await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'convtorch-model', version: 1, spec: model.spec, seed: 1, init: 'default' }))
  const loaded = await Model.load(dir, { device: 'cpu' })
  t.deepEqual(weightsOf(loaded), weightsOf(model))
  t.deepEqual(loaded.optimizer, { kind: 'sgd', lr: 0.05 }, 'version 1 models were trained with the seed SGD')
  await loaded.save(dir)
  t.true(lstatSync(dir).isSymbolicLink())
  t.deepEqual(weightsOf(await Model.load(dir, { device: 'cpu' })), weightsOf(model))
})

const otherShapes: ModelSpec = {
  input: [1, 28, 28],
  classes: 10,
  layers: [
    { type: 'conv2d', name: 'conv_1', filters: 4, kernel: 3, padding: 'same' },
    { type: 'relu' },
    { type: 'maxPool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'linear', name: 'linear_1', units: 10 },
  ],
}

test('corrupt, truncated and mismatched weights are refused naming the file, and the model is unchanged', async (t) => {
  const dir = await temp('corrupt')
  const source = Model.create({ device: 'cpu', init: 'default', seed: 3 })
  const good = join(dir, 'good.safetensors')
  source.saveWeights(good)
  const bytes = await readFile(good)
  const cases: Record<string, [Buffer | (() => void), RegExp]> = {
    truncated: [bytes.subarray(0, Math.floor(bytes.length / 2)), /truncated\.safetensors/],
    'torn header': [Buffer.concat([bytes.subarray(0, 8), Buffer.from('{"conv_1.weight":{"dtype":'), bytes.subarray(34)]), /torn header\.safetensors/],
    empty: [Buffer.alloc(0), /empty\.safetensors/],
    'another spec': [() => Model.create({ model: 'strong', device: 'cpu' }).saveWeights(join(dir, 'another spec.safetensors')), /holds 'conv_3\.bias', which this model does not have/],
    'other shapes': [() => Model.create({ model: otherShapes, device: 'cpu' }).saveWeights(join(dir, 'other shapes.safetensors')), /'conv_1\.weight' has shape \[4, 1, 3, 3\], the model expects \[8, 1, 3, 3\]/],
  }
  const model = Model.create({ device: 'cpu', init: 'default', seed: 9 })
  const before = weightsOf(model)
  for (const [name, [content, message]] of Object.entries(cases)) {
    const path = join(dir, `${name}.safetensors`)
    if (typeof content === 'function') content()
    else await writeFile(path, content)
    const error = t.throws(() => model.loadWeights(path), { instanceOf: CheckpointError }, name)
    t.regex(error!.message, message, name)
    t.regex(error!.message, new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${name}: the file is named`)
  }
  t.deepEqual(weightsOf(model), before, 'nothing was changed by the failed loads')
})

test('optimizer state that does not fit is refused before the weights are touched', async (t) => {
  const { out } = await trainedAdamRun()
  const dir = join(out, 'checkpoint')
  const sgd = Model.create({ device: 'cpu', optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 } })
  const before = weightsOf(sgd)
  const error = t.throws(() => sgd.loadWeights(join(dir, 'weights.safetensors'), join(dir, 'optimizer.safetensors')), { instanceOf: CheckpointError })
  t.regex(error!.message, /optimizer\.safetensors: holds '(conv|linear)_\d\.(weight|bias)\.(exp_avg|exp_avg_sq|step)', which is not optimizer state of this model and its optimizer/)
  t.deepEqual(weightsOf(sgd), before)
})

test('a checkpoint directory with a missing or broken file is refused naming it', async (t) => {
  const { out } = await trainedAdamRun()
  const copy = async (name: string) => {
    const dir = join(await temp(name), 'ckpt')
    const saved = await Model.load(out, { device: 'cpu' })
    await saved.save(dir)
    return dir
  }
  let dir = await copy('no-weights')
  await rm(join(dir, 'weights.safetensors'))
  await t.throwsAsync(Model.load(dir), { instanceOf: CheckpointError, message: /weights\.safetensors: missing/ })
  dir = await copy('bad-json')
  await writeFile(join(dir, 'model.json'), '{"format": "convtorch-model", "spec": ')
  await t.throwsAsync(Model.load(dir), { instanceOf: CheckpointError, message: /model\.json: the model description is not valid JSON/ })
  dir = await copy('foreign')
  await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'keras', spec: {} }))
  await t.throwsAsync(Model.load(dir), { instanceOf: CheckpointError, message: /model\.json: format must be 'convtorch-model' \(not a convtorch model\), got "keras"/ })
  dir = await copy('future')
  await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'convtorch-model', version: 99, spec: { layers: [] } }))
  await t.throwsAsync(Model.load(dir), { instanceOf: CheckpointError, message: /version must be 1 to 3 \(written by a newer convtorch\?\), got 99/ })
  await t.throwsAsync(Model.load(join(dir, 'nowhere')), { instanceOf: CheckpointError, message: /nowhere: no checkpoint there/ })
  await t.throwsAsync(train({ resume: dir }), { instanceOf: CheckpointError })
})
