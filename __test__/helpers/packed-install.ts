// convtorch as a user gets it: packed by scripts/pack.mjs (as it would be published) and
// installed into an empty project, with only node and npm on PATH (no Rust). Shared by the
// clean-install and README-examples tests.
import type { ExecutionContext } from 'ava'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Need } from './host'

export const root = join(__dirname, '..', '..', '..')

/** Packing builds the portable addon from the clone (cargo) and installing fetches dependencies (npm, registry). */
export const PACKING: readonly Need[] = ['npm', 'cargo', 'sources']

export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 600_000 })
}

/** No cargo, no rustc, no LD_LIBRARY_PATH: node and npm, as on a user's machine. */
export function bareEnv(): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/tmp', '.npm') }
}

/** The python3 of a torch 2.11 that `npm test` sets up, or null (the test passes, saying why it did nothing). */
export function torchPythonOrSkip(t: ExecutionContext): string | null {
  const python = process.env.CONVTORCH_PYTHON
  if (python) return python
  t.log('skipped: CONVTORCH_PYTHON is not set (run through `npm test`), so no torch 2.11 is known to put on PATH')
  t.pass()
  return null
}

/** `env` with the python3 of a torch 2.11 first on PATH: what convtorch's libtorch lookup finds. */
export function withTorch(env: NodeJS.ProcessEnv, python: string): NodeJS.ProcessEnv {
  return { ...env, PATH: `${dirname(python)}:${env.PATH}` }
}

/** Packs both tarballs into a new directory; returns them in install order (the platform package first). */
export async function packTarballs(): Promise<{ tarballs: string[]; pack: SpawnSyncReturns<string> }> {
  const out = await mkdtemp(join(tmpdir(), 'convtorch-packages-'))
  const pack = run(process.execPath, [join(root, 'scripts', 'pack.mjs'), '--out', out], root, process.env)
  return { tarballs: pack.stdout.trim().split('\n').filter((line) => line.endsWith('.tgz')), pack }
}

/** A new project directory holding only a package.json of the given module type. */
export async function emptyProject(type: 'commonjs' | 'module'): Promise<string> {
  const app = await mkdtemp(join(tmpdir(), `convtorch-app-${type}-`))
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0', type }))
  return app
}

/** `npm install` of the tarballs (and any other packages) in `app`, as the README says. */
export function installInto(app: string, packages: string[]): SpawnSyncReturns<string> {
  return run('npm', ['install', '--no-audit', '--no-fund', ...packages], app, bareEnv())
}
