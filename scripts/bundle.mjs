#!/usr/bin/env node
// `npm run bundle`: one self-contained tarball for an offline Linux x86_64 host that has
// PyTorch 2.11 (say, an air-gapped GPU server): this Node runtime, the portable addon, the
// compiled JS, its runtime dependencies and the MNIST data. The host's torch is found by the
// usual lookup (CONVTORCH_LIBTORCH, LIBTORCH, CONVTORCH_PYTHON or python3 on PATH).
// Usage: node scripts/bundle.mjs [--out DIR]
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buildPortableAddon, root, run } from './build-portable.mjs'
import { copyDependencies } from './copy-dependencies.mjs'

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const outIndex = process.argv.indexOf('--out')
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'dist'))
const name = `convtorch-${pkg.version}-linux-x64`
const stage = join(out, name)
rmSync(stage, { recursive: true, force: true })
const app = join(stage, 'lib', 'convtorch')
mkdirSync(join(stage, 'bin'), { recursive: true })
mkdirSync(app, { recursive: true })

run('npm', ['run', 'build:ts'], { stdio: ['ignore', 'ignore', 'inherit'] })
copyFileSync(buildPortableAddon(), join(app, 'convtorch.linux-x64-gnu.node'))
for (const file of ['package.json', 'binding.js', 'README.md']) copyFileSync(join(root, file), join(app, file))
cpSync(join(root, 'dist', 'src'), join(app, 'dist', 'src'), { recursive: true })
cpSync(join(root, 'scripts', 'setup-torch.mjs'), join(app, 'scripts', 'setup-torch.mjs'))
// Runtime dependencies, with their own dependencies, as npm installed them here.
// onnxruntime-web: only what `convtorch serve` reads (the list is the server's own).
const { ORT_FILES } = await import(join(root, 'dist', 'src', 'serve', 'ort-files.js'))
copyDependencies(root, join(app, 'node_modules'), { 'onnxruntime-web': ['package.json', ...Object.keys(ORT_FILES).map((file) => `dist/${file}`)] })
copyFileSync(process.execPath, join(stage, 'node'))
writeFileSync(join(stage, 'bin', 'convtorch'), `#!/bin/sh
# convtorch, self-contained: this bundle's Node runtime runs the CLI.
here=$(cd "$(dirname "$0")/.." && pwd)
exec "$here/node" "$here/lib/convtorch/dist/src/cli/main.js" "$@"
`)
chmodSync(join(stage, 'bin', 'convtorch'), 0o755)
writeFileSync(join(stage, 'README.txt'), `${name}: convtorch with its own Node ${process.version}, the MNIST data and the addon.

Needs PyTorch ${'2.11'} on this host, found in this order: CONVTORCH_LIBTORCH, LIBTORCH,
the torch of CONVTORCH_PYTHON or of python3 on PATH.

  bin/convtorch doctor          what it found (libtorch, CUDA devices)
  bin/convtorch train           the seed ConvNet on MNIST, on CUDA when available
`)
const tarball = join(out, `${name}.tar.gz`)
run('tar', ['-czf', tarball, '-C', out, name])
rmSync(stage, { recursive: true, force: true })
process.stdout.write(`${tarball}\n`)
