#!/usr/bin/env node
// Puts libconvtorch_cuda.so (CUDA graphs, NCCL; built by crates/core/build/cuda.rs into cargo's
// profile directory) beside the addon in <dir>, where the core looks for it at run time; removes
// a copy left there when this build made none (a libtorch without CUDA, no CUDA headers).
// Usage: node scripts/place-cuda-library.mjs <dir>
import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const CUDA_LIBRARY = 'libconvtorch_cuda.so'

// napi builds with --target, into <target>/<triple>/release; plain cargo into <target>/release.
// The newest is this build's (a build that makes none removes its own copy).
function builtLibrary(root) {
  const target = resolve(root, process.env.CARGO_TARGET_DIR ?? 'target')
  const candidates = [join(target, 'x86_64-unknown-linux-gnu', 'release', CUDA_LIBRARY), join(target, 'release', CUDA_LIBRARY)].filter((path) => existsSync(path))
  return candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
}

export function placeCudaLibrary(dir, root = resolve(import.meta.dirname, '..')) {
  const built = builtLibrary(root)
  const placed = join(dir, CUDA_LIBRARY)
  if (built) {
    copyFileSync(built, placed)
    return placed
  }
  rmSync(placed, { force: true })
  process.stderr.write(`${CUDA_LIBRARY} was not built (see the build's warning); CUDA graphs and NCCL are unavailable\n`)
  return null
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2]
  if (!dir) {
    process.stderr.write('usage: place-cuda-library.mjs <dir>\n')
    process.exit(2)
  }
  placeCudaLibrary(resolve(dir))
}
