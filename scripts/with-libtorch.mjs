#!/usr/bin/env node
// Runs a command with the environment that builds and tests against the libtorch recorded by
// setup-torch.mjs: LIBTORCH for torch-sys's build script, CONVTORCH_PYTHON for parity tests.
// Usage: node scripts/with-libtorch.mjs <command> [args...]
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const statePath = join(root, '.torch', 'env.json')
if (!existsSync(statePath)) {
  process.stderr.write(`with-libtorch: ${statePath} is missing; run \`npm run setup:torch\` (or \`npm install\`) first\n`)
  process.exit(1)
}
const state = JSON.parse(readFileSync(statePath, 'utf8'))
const env = { ...process.env, LIBTORCH: state.torchDir, LIBTORCH_CXX11_ABI: process.env.LIBTORCH_CXX11_ABI ?? '1' }
// Where setup-torch put the CUDA headers that libconvtorch_cuda.so builds against.
if (state.cudaInclude && !env.CONVTORCH_CUDA_INCLUDE) env.CONVTORCH_CUDA_INCLUDE = state.cudaInclude
if (state.python) {
  env.CONVTORCH_PYTHON = state.python
  env.PATH = `${dirname(state.python)}:${env.PATH}`
}
const [command, ...args] = process.argv.slice(2)
if (!command) {
  process.stderr.write('with-libtorch: no command given\n')
  process.exit(2)
}
const result = spawnSync(command, args, { stdio: 'inherit', env, cwd: root })
if (result.error) {
  process.stderr.write(`with-libtorch: could not run ${command}: ${result.error.message}\n`)
  process.exit(1)
}
process.exit(result.status ?? 1)
