// Finds the libtorch 2.11 the addon runs on and makes the loader see it: the addon's RUNPATH
// starts with $ORIGIN/libtorch, and this module keeps a `libtorch` link beside the addon
// pointing at the chosen library directory, before the addon is loaded. Order:
//   1. CONVTORCH_LIBTORCH   2. LIBTORCH   3. the torch of CONVTORCH_PYTHON or of python3 on
//   PATH   4. the install that `convtorch setup-torch` (npm run setup:torch) recorded.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { LibtorchLoadError } from './errors'

export const REQUIRED_TORCH = '2.11'
export const FIX_COMMAND = 'npx convtorch setup-torch'

export interface LibtorchChoice {
  /** Which step of the lookup found it. */
  source: string
  /** The directory holding libtorch_cpu.so. */
  libDir: string
  version: string
}

export interface LookupAttempt {
  source: string
  path: string | null
  outcome: string
}

const packageRoot = resolve(__dirname, '..', '..')

/** The version a torch (or libtorch) directory declares, read without loading it. */
export function versionOfTorchDir(dir: string): string | undefined {
  for (const file of ['version.py', 'build-version']) {
    const path = join(dir, file)
    if (!existsSync(path)) continue
    const text = readFileSync(path, 'utf8')
    const match = /__version__\s*=\s*['"]([^'"]+)['"]/.exec(text) ?? /^(\d+\.\d+\.\d+\S*)/m.exec(text)
    if (match) return match[1]
  }
  return undefined
}

function examine(source: string, dir: string, attempts: LookupAttempt[]): LibtorchChoice | undefined {
  // Accept a libtorch directory or its lib/ directly.
  const torchDir = existsSync(join(dir, 'lib', 'libtorch_cpu.so')) ? dir : existsSync(join(dir, 'libtorch_cpu.so')) ? dirname(dir) : undefined
  if (!torchDir) {
    attempts.push({ source, path: dir, outcome: 'no libtorch_cpu.so there' })
    return undefined
  }
  const version = versionOfTorchDir(torchDir)
  if (version && !version.startsWith(`${REQUIRED_TORCH}.`)) {
    attempts.push({ source, path: torchDir, outcome: `libtorch ${version}, not ${REQUIRED_TORCH}` })
    return undefined
  }
  attempts.push({ source, path: torchDir, outcome: 'used' })
  return { source, libDir: join(torchDir, 'lib'), version: version ?? 'unknown' }
}

function torchOfPython(python: string): { dir?: string; problem?: string } {
  const result = spawnSync(python, ['-c', 'import importlib.util as u; s = u.find_spec("torch"); print(s.submodule_search_locations[0] if s else "")'], { encoding: 'utf8', timeout: 30_000 })
  if (result.error) return { problem: `cannot run it (${(result.error as NodeJS.ErrnoException).code ?? result.error.message})` }
  if (result.status !== 0) return { problem: `it failed: ${result.stderr.trim().split('\n').pop()}` }
  const dir = result.stdout.trim()
  return dir ? { dir } : { problem: 'it has no torch package' }
}

function recordedInstalls(): string[] {
  const candidates = [join(packageRoot, '.torch', 'env.json')]
  const dirs: string[] = []
  for (const path of candidates) {
    try {
      const state = JSON.parse(readFileSync(path, 'utf8')) as { torchDir?: string }
      if (state.torchDir) dirs.push(state.torchDir)
    } catch {
      // Not set up here: the next candidate may be.
    }
  }
  return dirs
}

/** Runs the lookup; returns the choice and every attempt, for errors and `convtorch doctor`. */
export function findLibtorch(env: NodeJS.ProcessEnv = process.env): { choice?: LibtorchChoice; attempts: LookupAttempt[] } {
  const attempts: LookupAttempt[] = []
  for (const variable of ['CONVTORCH_LIBTORCH', 'LIBTORCH']) {
    const value = env[variable]
    if (!value) continue
    const choice = examine(variable, resolve(value), attempts)
    if (choice) return { choice, attempts }
  }
  const python = env.CONVTORCH_PYTHON ?? 'python3'
  const source = env.CONVTORCH_PYTHON ? 'CONVTORCH_PYTHON' : 'python3 on PATH'
  const found = torchOfPython(python)
  if (found.dir) {
    const choice = examine(`torch of ${source} (${python})`, found.dir, attempts)
    if (choice) return { choice, attempts }
  } else {
    attempts.push({ source: `torch of ${source} (${python})`, path: null, outcome: found.problem ?? 'not found' })
  }
  const recorded = recordedInstalls()
  if (recorded.length === 0) attempts.push({ source: 'setup-torch install', path: join(packageRoot, '.torch', 'env.json'), outcome: 'none recorded' })
  for (const dir of recorded) {
    const choice = examine('setup-torch install', dir, attempts)
    if (choice) return { choice, attempts }
  }
  return { attempts }
}

export function describeAttempts(attempts: LookupAttempt[]): string {
  return attempts.map((a, i) => `  ${i + 1}. ${a.source}${a.path ? ` ${a.path}` : ''}: ${a.outcome}`).join('\n')
}

/** Where the addon lives: beside binding.js in a clone, else in the platform package. */
export function addonPath(): string | undefined {
  const local = join(packageRoot, 'convtorch.linux-x64-gnu.node')
  if (existsSync(local)) return local
  try {
    const pkg = require.resolve('convtorch-linux-x64-gnu/package.json', { paths: [packageRoot] })
    const path = join(dirname(pkg), 'convtorch.linux-x64-gnu.node')
    return existsSync(path) ? path : undefined
  } catch {
    return undefined
  }
}

function pointLink(link: string, target: string): void {
  try {
    if (readlinkSync(link) === target) return
  } catch {
    // No link yet, or not a link: (re)create it below.
  }
  const temporary = `${link}.${process.pid}`
  symlinkSync(target, temporary)
  renameSync(temporary, link)
}

/**
 * Points `<addon dir>/libtorch` at the chosen libtorch. Where the addon's directory is not
 * writable, a copy of the addon in the user's cache gets the link; its path is returned.
 */
export function linkLibtorch(addon: string, libDir: string): string {
  try {
    pointLink(join(dirname(addon), 'libtorch'), libDir)
    return addon
  } catch {
    const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'convtorch', 'addon', String(process.getuid?.() ?? 0))
    mkdirSync(cacheDir, { recursive: true })
    const copy = join(cacheDir, 'convtorch.linux-x64-gnu.node')
    copyFileSync(addon, `${copy}.${process.pid}`)
    renameSync(`${copy}.${process.pid}`, copy)
    pointLink(join(cacheDir, 'libtorch'), libDir)
    return copy
  }
}

export const PLATFORM_PACKAGE = 'convtorch-linux-x64-gnu'

/** Which package is missing and how to get it: the prebuilt addon is an optional dependency, which npm skips silently. */
export function missingAddonMessage(platform = `${process.platform}-${process.arch}`): string {
  if (platform !== 'linux-x64') {
    return `convtorch has a prebuilt addon for Linux x86_64 (glibc) only, and this is ${platform}; build it from a clone of convtorch (\`npm run build\`).`
  }
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string; optionalDependencies?: Record<string, string> }
  const version = manifest.optionalDependencies?.[PLATFORM_PACKAGE] ?? manifest.version
  return [
    `the convtorch addon is missing: the package ${PLATFORM_PACKAGE}@${version} (convtorch's prebuilt addon for Linux x86_64, glibc) is not installed beside convtorch, and there is no ${join(packageRoot, 'convtorch.linux-x64-gnu.node')}.`,
    `npm installs it as an optional dependency of convtorch and skips it without a word when it cannot (--omit=optional, or a registry that lacks it).`,
    `Fix: \`npm install ${PLATFORM_PACKAGE}@${version}\`; or, with the two tarballs that \`npm run package\` makes in a convtorch clone, install both in one command, the platform package first: \`npm install ./${PLATFORM_PACKAGE}-${version}.tgz ./convtorch-${manifest.version}.tgz\`; in a clone, \`npm run build\` builds the addon.`,
  ].join('\n')
}

/** Makes libtorch visible to the addon; throws LibtorchLoadError listing the lookup. */
export function prepareLibtorch(): { choice: LibtorchChoice; addon: string } {
  const addon = addonPath()
  if (!addon) throw new LibtorchLoadError(missingAddonMessage())
  const { choice, attempts } = findLibtorch()
  if (!choice) {
    throw new LibtorchLoadError(`no libtorch ${REQUIRED_TORCH} was found. Tried, in order:\n${describeAttempts(attempts)}\nFix: run \`${FIX_COMMAND}\` (installs torch 2.11.0 from PyPI for convtorch), or \`pip install torch==2.11.0\`, or set CONVTORCH_LIBTORCH to a libtorch 2.11 directory.`)
  }
  return { choice, addon: linkLibtorch(addon, choice.libDir) }
}
