// Builds the portable addon (RUNPATH only $ORIGIN/libtorch: no path of this machine) into
// npm/linux-x64-gnu and returns its path. Shared by pack.mjs and bundle.mjs.
import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { placeCudaLibrary } from './place-cuda-library.mjs'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const platformDir = join(root, 'npm', 'linux-x64-gnu')

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...options })
  if (result.status !== 0) {
    process.stderr.write(`\`${command} ${args.join(' ')}\` failed\n`)
    process.exit(result.status ?? 1)
  }
}

export function buildPortableAddon() {
  run(process.execPath, [join(root, 'scripts', 'with-libtorch.mjs'), 'npx', 'napi', 'build', '--platform', '--release', '--manifest-path', 'crates/node/Cargo.toml', '--output-dir', platformDir, '--no-js'], {
    env: { ...process.env, CONVTORCH_PORTABLE: '1' },
  })
  const addon = join(platformDir, 'convtorch.linux-x64-gnu.node')
  // Stripped here rather than with `napi build --strip`, whose flags would invalidate cargo's cache.
  const stripped = spawnSync('strip', ['--strip-unneeded', addon], { stdio: 'inherit' })
  if (stripped.error) process.stderr.write('`strip` is not available; the addon keeps its symbols\n')
  // Beside the addon, where the core looks for it (crates/core/src/cuda_library.rs).
  placeCudaLibrary(platformDir, root)
  return addon
}
