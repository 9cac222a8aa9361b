// A checkpoint whose files were changed after saving is refused by name: model.json (version 3)
// records the SHA-256 of the weights, the optimizer state and the spec.
import test from 'ava'
import { cp, mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CheckpointError, Model, readCheckpoint, type ModelSpec } from '../src/index'

const sameShapes: ModelSpec = {
  input: [1, 8, 8],
  classes: 3,
  layers: [{ type: 'conv2d', name: 'conv', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'linear', name: 'out', units: 3 }],
}

/** A saved model's version directory, copied so each case edits its own. */
async function savedCopy(name: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `convtorch-integrity-${name}-`))
  const model = Model.create({ model: sameShapes, device: 'cpu', init: 'default' })
  await model.save(join(root, 'saved'))
  model.dispose()
  const copy = join(root, 'copy')
  await cp(await realpath(join(root, 'saved')), copy, { recursive: true })
  return copy
}

async function editJson(path: string, edit: (value: Record<string, unknown>) => void): Promise<void> {
  const value = JSON.parse(await readFile(path, 'utf8'))
  edit(value)
  await writeFile(path, JSON.stringify(value))
}

test('model.json records checksums, and an untouched checkpoint verifies', async (t) => {
  const dir = await savedCopy('clean')
  const saved = await readCheckpoint(dir)
  t.is(saved.model.version, 3)
  t.regex(saved.model.integrity!.weights, /^[0-9a-f]{64}$/)
  const model = await Model.load(dir, { device: 'cpu' })
  t.is(model.parameterNames().length, 4)
})

test('tensor bytes overwritten with 0xff (which loaded as NaN) are refused, naming the file', async (t) => {
  const dir = await savedCopy('bytes')
  const weights = join(dir, 'weights.safetensors')
  const bytes = await readFile(weights)
  bytes.fill(0xff, bytes.length - 16)
  await writeFile(weights, bytes)
  const error = await t.throwsAsync(Model.load(dir, { device: 'cpu' }), { instanceOf: CheckpointError })
  t.is(error!.message, `${weights}: the weights file is not what ${join(dir, 'model.json')} recorded when it was saved (SHA-256 differs): the file was changed or damaged after saving; restore it, or use another checkpoint`)
})

test('a dtype edited in the safetensors header (which loaded garbage) is refused', async (t) => {
  const dir = await savedCopy('dtype')
  const weights = join(dir, 'weights.safetensors')
  const text = (await readFile(weights)).toString('latin1').replace('"F32"', '"I32"')
  await writeFile(weights, Buffer.from(text, 'latin1'))
  await t.throwsAsync(Model.load(dir, { device: 'cpu' }), { instanceOf: CheckpointError, message: /weights\.safetensors: the weights file is not what .* recorded/ })
})

test('a spec edited to another of the same shapes (relu -> tanh), which loaded silently, is refused', async (t) => {
  const dir = await savedCopy('spec')
  await editJson(join(dir, 'model.json'), (value) => {
    ;(value.spec as ModelSpec).layers[1] = { type: 'tanh' }
  })
  await t.throwsAsync(Model.load(dir, { device: 'cpu' }), { instanceOf: CheckpointError, message: /model\.json: its spec is not what .*model\.json recorded when it was saved/ })
})

test('model.json holding null, a bad spec, or an unknown version is a CheckpointError naming the file', async (t) => {
  const dir = await savedCopy('json')
  const file = join(dir, 'model.json')
  await writeFile(file, 'null')
  await t.throwsAsync(Model.load(dir), { instanceOf: CheckpointError, message: `${file}: format must be 'convtorch-model' (not a convtorch model), got null` })
  const original = await savedCopy('json2')
  await editJson(join(original, 'model.json'), (value) => {
    ;(value.spec as ModelSpec).layers[0] = { type: 'conv2d', filters: 0, kernel: 3 }
  })
  await t.throwsAsync(Model.load(original), { instanceOf: CheckpointError, message: `${join(original, 'model.json')}: spec: layer 0 (conv2d) filters must be a positive integer <= 1048576, got 0` })
  await editJson(join(original, 'model.json'), (value) => {
    value.version = 4
  })
  await t.throwsAsync(Model.load(original), { instanceOf: CheckpointError, message: /model\.json: version must be 1 to 3 \(written by a newer convtorch\?\), got 4/ })
  const third = await savedCopy('json3')
  await editJson(join(third, 'model.json'), (value) => {
    value.integrity = { algorithm: 'md5' }
  })
  await t.throwsAsync(Model.load(third), { instanceOf: CheckpointError, message: /model\.json: integrity must be \{ algorithm: 'sha256', weights, optimizer, spec \}/ })
})
