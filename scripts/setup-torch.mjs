#!/usr/bin/env node
// Finds or installs the libtorch that convtorch builds and runs against (PyTorch 2.11.0, the
// version `tch` 0.24 expects) and records it in .torch/env.json for the other scripts.
//
// Lookup order:
//   1. LIBTORCH                 a libtorch directory (include/ and lib/); no Python torch.
//   2. CONVTORCH_PYTHON         an interpreter whose `torch` is 2.11.x.
//   3. CONVTORCH_TORCH_HOME     a virtual environment to reuse or create (CI keeps one in $HOME).
//   4. python3 on PATH          reused when its torch is 2.11.x.
//   5. .torch/venv              project-local, created here.
// Wheel sets: "full" (default: torch with every CUDA dependency, needed by `import torch`
// for parity tests and benchmarks, and by CUDA training) or "light" (torch plus the two NVIDIA
// runtime wheels libtorch_cpu.so needs: enough for the addon on a CPU machine).
// Usage: node scripts/setup-torch.mjs [--light|--full]

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const TORCH_VERSION = '2.11.0'
// Read off torch 2.11.0's METADATA: cuda-toolkit[cudart,cupti]==13.0.2 pins these two.
const LIGHT_RUNTIME_WHEELS = ['nvidia-cuda-runtime==13.0.96', 'nvidia-cuda-cupti==13.0.85']
// What the tests import besides torch, as a Python user would have it: safetensors (whose torch
// module imports packaging, and numpy to save, neither declared), tensorboard's event reader,
// and ONNX's checker and ONNX Runtime for the exported models (with the two dependencies they
// leave unpinned: ml_dtypes for onnx, flatbuffers for onnxruntime).
// The CUDA headers libconvtorch_cuda.so (CUDA graphs, NCCL) compiles against, beyond the
// cuda_runtime.h of nvidia-cuda-runtime: cuda_runtime.h includes crt/ (nvidia-cuda-crt) and
// ATen/cuda's headers include CCCL's nv/target (nvidia-cuda-cccl); versions of CUDA 13.0, as
// torch 2.11.0's cuda-toolkit pin. Headers only, installed apart from any Python environment.
const CUDA_HEADER_WHEELS = ['nvidia-cuda-crt==13.0.88', 'nvidia-cuda-cccl==13.0.85']
const TEST_PACKAGES = [
  'safetensors==0.7.0', 'packaging==25.0', 'numpy==2.4.6', 'tensorboard==2.21.0',
  'onnx==1.23.2', 'ml_dtypes==0.7.0', 'onnxruntime==1.32.0', 'flatbuffers==25.12.19',
]

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const stateDir = join(root, '.torch')
const statePath = join(stateDir, 'env.json')

function log(message) {
  process.stderr.write(`[setup-torch] ${message}\n`)
}

function fail(message) {
  process.stderr.write(`[setup-torch] error: ${message}\n`)
  process.exit(1)
}

function wheelSet() {
  if (process.argv.includes('--light')) return 'light'
  if (process.argv.includes('--full')) return 'full'
  const fromEnv = process.env.CONVTORCH_TORCH_SET
  if (fromEnv && fromEnv !== 'light' && fromEnv !== 'full') {
    fail(`CONVTORCH_TORCH_SET must be 'light' or 'full', got '${fromEnv}'`)
  }
  return fromEnv ?? 'full'
}

// The version a torch package directory declares, read without importing torch.
function versionOfTorchDir(torchDir) {
  for (const file of ['version.py', 'build-version']) {
    const path = join(torchDir, file)
    if (!existsSync(path)) continue
    const text = readFileSync(path, 'utf8')
    const match = text.match(/__version__\s*=\s*['"]([^'"]+)['"]/) ?? text.match(/^(\d+\.\d+\.\d+\S*)/m)
    if (match) return match[1]
  }
  return undefined
}

function matchesVersion(version) {
  return typeof version === 'string' && version.split('+')[0] === TORCH_VERSION
}

// Where `python` would import torch from, without importing it (works with the light set too).
function torchDirOf(python) {
  const result = spawnSync(
    python,
    ['-c', 'import importlib.util as u; s = u.find_spec("torch"); print(s.submodule_search_locations[0] if s else "")'],
    { encoding: 'utf8' },
  )
  if (result.status !== 0) return undefined
  const dir = result.stdout.trim()
  return dir && existsSync(join(dir, 'lib', 'libtorch_cpu.so')) ? dir : undefined
}

function hasFullSet(torchDir) {
  // cuDNN is the largest of the CUDA wheels that `import torch` needs on Linux.
  return existsSync(join(torchDir, '..', 'nvidia', 'cudnn'))
}

// Installs the CUDA header wheels into their own directory (CONVTORCH_CUDA_HEADERS, or
// .torch/cuda-headers) when the libtorch is a CUDA build; returns the include directory.
function ensureCudaHeaders(torchDir, torchPython) {
  if (!existsSync(join(torchDir, 'lib', 'libtorch_cuda.so'))) return null
  const target = resolve(process.env.CONVTORCH_CUDA_HEADERS ?? join(stateDir, 'cuda-headers'))
  const include = join(target, 'nvidia', 'cu13', 'include')
  if (existsSync(join(include, 'crt', 'host_config.h')) && existsSync(join(include, 'cccl', 'nv', 'target'))) return include
  const python = torchPython ?? process.env.CONVTORCH_BASE_PYTHON ?? 'python3'
  const cacheDir = process.env.PIP_CACHE_DIR ?? join(homedir(), '.cache', 'convtorch', 'pip')
  const started = Date.now()
  execFileSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps', '--upgrade', '--cache-dir', cacheDir, '--target', target, ...CUDA_HEADER_WHEELS], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  log(`CUDA headers into ${target}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return include
}

function record(state) {
  state.cudaInclude = ensureCudaHeaders(state.torchDir, state.python)
  mkdirSync(stateDir, { recursive: true })
  writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`)
  log(`libtorch ${state.version} from ${state.source}: ${state.torchDir}`)
}

function usePython(python, source, set) {
  const torchDir = torchDirOf(python)
  if (!torchDir) return false
  const version = versionOfTorchDir(torchDir)
  if (!matchesVersion(version)) {
    log(`${python} has torch ${version ?? '(unknown version)'}, not ${TORCH_VERSION}; not used`)
    return false
  }
  if (set === 'full' && !hasFullSet(torchDir)) {
    log(`${python} has torch ${version} without its CUDA wheels (the light set); installing the full set there`)
    return false
  }
  record({ source, python, torchDir, version, wheelSet: hasFullSet(torchDir) ? 'full' : 'light' })
  return true
}

function pip(python, args) {
  const cacheDir = process.env.PIP_CACHE_DIR ?? join(homedir(), '.cache', 'convtorch', 'pip')
  const started = Date.now()
  execFileSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--cache-dir', cacheDir, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  log(`pip install ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

// The interchange tests read and write PyTorch state_dicts as a Python user does, with the
// safetensors package, the TensorBoard test reads event files with tensorboard's reader, and the
// ONNX tests check exported files with onnx.checker and run them in onnxruntime; they go into
// convtorch's own environments only, never a user's.
function ensureTestPackages(python) {
  if (spawnSync(python, ['-c', 'import safetensors.torch, numpy, tensorboard, onnx, onnxruntime'], { stdio: 'ignore' }).status === 0) return
  pip(python, TEST_PACKAGES)
}

function installInto(venv, set) {
  const python = join(venv, 'bin', 'python3')
  if (!existsSync(python)) {
    log(`creating ${venv}`)
    const base = process.env.CONVTORCH_BASE_PYTHON ?? 'python3'
    execFileSync(base, ['-m', 'venv', venv], { stdio: 'inherit' })
  }
  if (!usePython(python, venv, set)) {
    if (set === 'light') {
      pip(python, ['--no-deps', `torch==${TORCH_VERSION}`, ...LIGHT_RUNTIME_WHEELS])
    } else {
      pip(python, [`torch==${TORCH_VERSION}`])
    }
    if (!usePython(python, venv, set)) fail(`torch ${TORCH_VERSION} was installed into ${venv} but cannot be found there`)
  }
  if (set === 'full') ensureTestPackages(python)
}

function main() {
  const set = wheelSet()
  if (process.env.LIBTORCH) {
    const torchDir = resolve(process.env.LIBTORCH)
    if (!existsSync(join(torchDir, 'lib', 'libtorch_cpu.so'))) {
      fail(`LIBTORCH=${torchDir} has no lib/libtorch_cpu.so; point it at a libtorch ${TORCH_VERSION} directory or unset it`)
    }
    const version = versionOfTorchDir(torchDir)
    if (version && !matchesVersion(version)) fail(`LIBTORCH=${torchDir} is libtorch ${version}; convtorch needs ${TORCH_VERSION}`)
    record({ source: 'LIBTORCH', python: null, torchDir, version: version ?? 'unknown', wheelSet: 'libtorch' })
    return
  }
  if (process.env.CONVTORCH_PYTHON) {
    if (!usePython(process.env.CONVTORCH_PYTHON, 'CONVTORCH_PYTHON', set)) {
      fail(`CONVTORCH_PYTHON=${process.env.CONVTORCH_PYTHON} has no usable torch ${TORCH_VERSION}; install it there or unset the variable`)
    }
    return
  }
  if (process.env.CONVTORCH_TORCH_HOME) {
    installInto(resolve(process.env.CONVTORCH_TORCH_HOME), set)
    return
  }
  const local = join(stateDir, 'venv')
  if (existsSync(join(local, 'bin', 'python3')) && usePython(join(local, 'bin', 'python3'), local, set)) {
    if (set === 'full') ensureTestPackages(join(local, 'bin', 'python3'))
    return
  }
  if (usePython('python3', 'python3 on PATH', set)) return
  installInto(local, set)
}

main()
