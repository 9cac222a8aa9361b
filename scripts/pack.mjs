#!/usr/bin/env node
// Packs both npm tarballs: convtorch-linux-x64-gnu (the portable addon) and convtorch, and
// prints their paths in install order (the platform package first). With --install DIR, also
// installs both into the project in DIR, as a user of the unpublished package would.
// Usage: node scripts/pack.mjs [--out DIR] [--install DIR]
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { buildPortableAddon, platformDir, root, run } from './build-portable.mjs'
import { publishManifest } from './publish-manifest.mjs'

const flag = (name) => {
  const index = process.argv.indexOf(name)
  return index > 0 ? process.argv[index + 1] : undefined
}
const out = resolve(flag('--out') ?? join(root, 'dist', 'packages'))
const install = flag('--install')

/** `npm pack` of `dir` into `out`; returns the tarball's path. */
function pack(dir) {
  // --ignore-scripts: the clone's `prepare` would rebuild its own (non-portable) addon.
  const result = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (result.status !== 0) throw new Error(`npm pack failed in ${dir}`)
  return join(out, JSON.parse(result.stdout)[0].filename)
}

/**
 * A copy of the files `npm pack` would take from the clone, with the published package.json,
 * and dist/binding.d.ts: dist/src/native.d.ts imports '../binding', which from dist/src/ is
 * dist/binding, while the generated binding.d.ts sits at the package root.
 */
function stagePackage() {
  const listed = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (listed.status !== 0) throw new Error('npm pack --dry-run failed')
  const stage = mkdtempSync(join(tmpdir(), 'convtorch-stage-'))
  for (const { path } of JSON.parse(listed.stdout)[0].files) {
    mkdirSync(dirname(join(stage, path)), { recursive: true })
    cpSync(join(root, path), join(stage, path))
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(publishManifest(manifest), null, 2)}\n`)
  writeFileSync(join(stage, 'dist', 'binding.d.ts'), "export * from '../binding'\n")
  return stage
}

mkdirSync(out, { recursive: true })
buildPortableAddon()
const platform = pack(platformDir)
const stage = stagePackage()
let main
try {
  main = pack(stage)
} finally {
  rmSync(stage, { recursive: true, force: true })
}
process.stdout.write(`${platform}\n${main}\n`)
if (install) run('npm', ['install', '--no-audit', '--no-fund', platform, main], { cwd: resolve(install) })
