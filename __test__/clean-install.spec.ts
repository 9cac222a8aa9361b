import test from 'ava'
import { readFileSync, readlinkSync } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runsHere } from './helpers/host'
import { bareEnv, emptyProject, installInto, PACKING, packTarballs, run, torchPythonOrSkip, withTorch } from './helpers/packed-install'

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

test('both npm tarballs install into an empty project and train there, without Rust or LD_LIBRARY_PATH', async (t) => {
  // Packing builds the portable addon: minutes with a cold cargo cache, past ava's 5 minutes of silence.
  t.timeout(30 * 60_000)
  if (!runsHere(t, PACKING)) return
  const python = torchPythonOrSkip(t)
  if (!python) return
  const { tarballs, pack } = await packTarballs()
  t.is(pack.status, 0, pack.stderr)
  t.deepEqual(tarballs.map((f) => f.replace(/^.*\//, '')), ['convtorch-linux-x64-gnu-0.1.0.tgz', 'convtorch-0.1.0.tgz'])

  const app = await emptyProject('commonjs')
  await writeFile(join(app, 'app.js'), APP)
  const bare = bareEnv()
  t.is(run('sh', ['-c', 'command -v cargo rustc || true'], app, bare).stdout.trim(), '', 'no Rust toolchain on PATH')
  const install = installInto(app, tarballs)
  t.is(install.status, 0, install.stderr)
  // npm 11 warns of every installed package with install scripts; the clone's prepare was one.
  t.notRegex(install.stderr, /convtorch[^\n]*\((prepare|preinstall|install|postinstall):/, 'no install-time script of convtorch for npm to warn about')

  // What was published: no clone-only scripts, and the source maps' sources are in the package.
  const installed = join(app, 'node_modules', 'convtorch')
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
  t.is(manifest.scripts, undefined, 'no prepare (nor any clone script) in the published package.json')
  const map = JSON.parse(readFileSync(join(installed, 'dist', 'src', 'index.js.map'), 'utf8'))
  t.notThrows(() => readFileSync(join(installed, 'dist', 'src', map.sources[0])), `source map source ${map.sources[0]} ships`)
  t.true((await readdir(join(installed, 'dist'))).includes('binding.d.ts'), "dist/binding.d.ts, which dist/src/native.d.ts imports as '../binding'")

  const withoutTorch = run(process.execPath, ['app.js'], app, bare)
  t.not(withoutTorch.status, 0)
  t.regex(withoutTorch.stderr, /LibtorchLoadError: no libtorch 2\.11 was found\. Tried, in order:/)
  t.regex(withoutTorch.stderr, /Fix: run `npx convtorch setup-torch`/)

  const trained = run(process.execPath, ['app.js'], app, withTorch(bare, python))
  t.is(trained.status, 0, trained.stderr)
  const result = JSON.parse(trained.stdout.trim())
  t.log(`trained in the new project: ${JSON.stringify(result)}`)
  t.is(result.device, 'cpu')
  t.true(result.accuracy > 0.7, `accuracy ${result.accuracy}`)
  const link = readlinkSync(join(app, 'node_modules', 'convtorch-linux-x64-gnu', 'libtorch'))
  t.regex(link, /torch\/lib$/, 'the loader linked the addon to the torch of python3 on PATH')
  const runpath = run('readelf', ['-d', join(app, 'node_modules', 'convtorch-linux-x64-gnu', 'convtorch.linux-x64-gnu.node')], app, bare)
  if (runpath.status === 0) t.regex(runpath.stdout, /RUNPATH\)\s+Library runpath: \[\$ORIGIN\/libtorch\]/)

  // The main tarball alone: npm skips the unpublished platform package silently; convtorch names it.
  const orphan = await emptyProject('commonjs')
  await writeFile(join(orphan, 'app.js'), APP)
  const alone = installInto(orphan, [tarballs[1]])
  t.is(alone.status, 0, alone.stderr)
  const missing = run(process.execPath, ['app.js'], orphan, withTorch(bare, python))
  t.not(missing.status, 0)
  t.regex(missing.stderr, /the package convtorch-linux-x64-gnu@0\.1\.0 .* is not installed beside convtorch/)
  t.regex(missing.stderr, /npm install \.\/convtorch-linux-x64-gnu-0\.1\.0\.tgz \.\/convtorch-0\.1\.0\.tgz/)
})
