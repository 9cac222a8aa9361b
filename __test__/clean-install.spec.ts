import test from 'ava'
import { spawnSync } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const root = join(__dirname, '..', '..')

// The user's ten lines: import convtorch, train one short epoch, print the result.
const APP = `const { loadMnist, train } = require('convtorch')
async function main() {
  const { train: full, test } = await loadMnist()
  const data = { train: full.slice(0, 12800), test: test.slice(0, 2000) }
  const result = await train({ data, epochs: 1, batchSize: 64, device: 'cpu', init: 'default', trainAccuracy: false })
  console.log(JSON.stringify({ accuracy: result.test.accuracy, device: result.model.device }))
}
main().catch((error) => { console.error(error.name + ': ' + error.message); process.exit(1) })
`

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 600_000 })
}

test('both npm tarballs install into an empty project and train there, without Rust or LD_LIBRARY_PATH', async (t) => {
  const python = process.env.CONVTORCH_PYTHON
  if (!python) {
    t.log('skipped: CONVTORCH_PYTHON is not set (run through `npm test`), so no torch 2.11 is known to put on PATH')
    t.pass()
    return
  }
  const packages = await mkdtemp(join(tmpdir(), 'convtorch-packages-'))
  const pack = run(process.execPath, [join(root, 'scripts', 'pack.mjs'), '--out', packages], root, process.env)
  t.is(pack.status, 0, pack.stderr)
  const tarballs = (await readdir(packages)).filter((f) => f.endsWith('.tgz')).map((f) => join(packages, f))
  t.is(tarballs.length, 2, `tarballs: ${tarballs.join(', ')}`)

  const app = await mkdtemp(join(tmpdir(), 'convtorch-app-'))
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }))
  await writeFile(join(app, 'app.js'), APP)
  // No cargo, no rustc, no LD_LIBRARY_PATH: node and npm, and a python3 whose torch is 2.11.
  const bare = { HOME: process.env.HOME, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/tmp', '.npm') }
  t.is(run('sh', ['-c', 'command -v cargo rustc || true'], app, bare).stdout.trim(), '', 'no Rust toolchain on PATH')
  const install = run('npm', ['install', '--no-audit', '--no-fund', ...tarballs], app, bare)
  t.is(install.status, 0, install.stderr)

  const withoutTorch = run(process.execPath, ['app.js'], app, bare)
  t.not(withoutTorch.status, 0)
  t.regex(withoutTorch.stderr, /LibtorchLoadError: no libtorch 2\.11 was found\. Tried, in order:/)
  t.regex(withoutTorch.stderr, /Fix: run `npx convtorch setup-torch`/)

  const withTorch = { ...bare, PATH: `${dirname(python)}:${bare.PATH}` }
  const trained = run(process.execPath, ['app.js'], app, withTorch)
  t.is(trained.status, 0, trained.stderr)
  const result = JSON.parse(trained.stdout.trim())
  t.log(`trained in the new project: ${JSON.stringify(result)}`)
  t.is(result.device, 'cpu')
  t.true(result.accuracy > 0.7, `accuracy ${result.accuracy}`)
  const link = readlinkSync(join(app, 'node_modules', 'convtorch-linux-x64-gnu', 'libtorch'))
  t.regex(link, /torch\/lib$/, 'the loader linked the addon to the torch of python3 on PATH')
  const runpath = run('readelf', ['-d', join(app, 'node_modules', 'convtorch-linux-x64-gnu', 'convtorch.linux-x64-gnu.node')], app, bare)
  if (runpath.status === 0) t.regex(runpath.stdout, /RUNPATH\)\s+Library runpath: \[\$ORIGIN\/libtorch\]/)
})
