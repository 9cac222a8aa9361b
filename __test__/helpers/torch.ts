// Runs the checked-in PyTorch scripts with the interpreter the build used (CONVTORCH_PYTHON).
import type { ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { unavailable } from './host'

export function pythonWithTorch(): { python: string } | { reason: string } {
  const python = process.env.CONVTORCH_PYTHON
  if (!python) return { reason: 'CONVTORCH_PYTHON is not set (run the tests through `npm test`, which sets it from .torch/env.json)' }
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' })
  if (probe.status !== 0) return { reason: `${python} cannot import torch: ${probe.stderr.trim().split('\n').pop()}` }
  return { python }
}

/** The build's interpreter where it imports every one of `modules`, else why not. */
export function pythonWith(modules: readonly string[]): { python: string } | { reason: string } {
  const python = process.env.CONVTORCH_PYTHON
  if (!python) return { reason: 'CONVTORCH_PYTHON is not set (run the tests through `npm test`, which sets it from .torch/env.json)' }
  const probe = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' })
  if (probe.status !== 0) return { reason: `${python} cannot import ${modules.join(', ')} (scripts/setup-torch.mjs installs them): ${probe.stderr.trim().split('\n').pop()}` }
  return { python }
}

export function runTorchScript<T>(python: string, script: string, request: unknown): T {
  const path = join(__dirname, '..', '..', '..', '__test__', 'fixtures', script)
  const result = spawnSync(python, [path], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`${script} failed (${result.status}): ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/** Largest |a - b| divided by the largest |b|: the relative error of a whole tensor. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity
  let diff = 0
  let scale = 0
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]))
    scale = Math.max(scale, Math.abs(expected[i]))
  }
  return scale === 0 ? diff : diff / scale
}

/** What a parity test does where torch (or a package it needs) cannot be imported: helpers/host's rule. */
export function torchMissing(t: ExecutionContext, reason: string, what = 'torch'): void {
  unavailable(t, reason, what)
}
