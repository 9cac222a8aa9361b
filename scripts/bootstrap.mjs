#!/usr/bin/env node
// Makes a clone ready to run, whatever state it is in: installs npm dependencies (whose
// `prepare` installs libtorch and builds everything), or rebuilds only what is out of date.
// `npm start` and `npm test` call it first, so both work on a fresh clone.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root })
  if (result.status !== 0) {
    process.stderr.write(`bootstrap: \`${command} ${args.join(' ')}\` failed\n`)
    process.exit(result.status ?? 1)
  }
}

function newestMtime(path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs)
}

const addon = join(root, 'convtorch.linux-x64-gnu.node')

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  process.stderr.write('bootstrap: installing dependencies, libtorch and building (first run only)\n')
  run(npm, ['install', '--no-audit', '--no-fund'])
} else {
  if (!existsSync(join(root, '.torch', 'env.json'))) run(process.execPath, [join(root, 'scripts', 'setup-torch.mjs')])
  const rustSources = Math.max(newestMtime(join(root, 'crates')), newestMtime(join(root, 'Cargo.toml')))
  if (!existsSync(addon) || statSync(addon).mtimeMs < rustSources) {
    run(process.execPath, [join(root, 'scripts', 'gloo-headers.mjs')])
    run(npm, ['run', 'build:native'])
  }
  run(npm, ['run', 'build:ts'])
}
