#!/usr/bin/env node
// Builds the portable addon into npm/linux-x64-gnu (RUNPATH only $ORIGIN/libtorch, no path of
// this machine) and packs both npm tarballs. Usage: node scripts/pack.mjs [--out DIR]
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outIndex = process.argv.indexOf('--out')
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'dist', 'packages'))
mkdirSync(out, { recursive: true })

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...options })
  if (result.status !== 0) {
    process.stderr.write(`pack: \`${command} ${args.join(' ')}\` failed\n`)
    process.exit(result.status ?? 1)
  }
}

const platformDir = join(root, 'npm', 'linux-x64-gnu')
run(process.execPath, [join(root, 'scripts', 'with-libtorch.mjs'), 'npx', 'napi', 'build', '--platform', '--release', '--manifest-path', 'crates/node/Cargo.toml', '--output-dir', platformDir, '--no-js'], {
  env: { ...process.env, CONVTORCH_PORTABLE: '1' },
})
// Stripped here rather than with `napi build --strip`, whose flags would invalidate cargo's cache.
const stripped = spawnSync('strip', ['--strip-unneeded', join(platformDir, 'convtorch.linux-x64-gnu.node')], { stdio: 'inherit' })
if (stripped.error) process.stderr.write('pack: `strip` is not available; the addon keeps its symbols\n')
// --ignore-scripts: `prepare` would rebuild the clone's own (non-portable) addon.
run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: platformDir, stdio: ['ignore', 'ignore', 'inherit'] })
run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { stdio: ['ignore', 'ignore', 'inherit'] })
for (const file of readdirSync(out).filter((f) => f.endsWith('.tgz'))) process.stdout.write(`${join(out, file)}\n`)
