// What a spec needs of the machine beyond Node and the addon, and the one rule for when it is
// missing: skip with the reason printed, except in CI, which installs all of it (there a missing
// need is a broken setup, so the test fails). A GPU host running the pack (scripts/gpu-run.sh)
// has no npm, cargo, network or clone sources, and its torch environment may lack packages.
import type { ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { findChromium } from './chromium'

const root = join(__dirname, '..', '..', '..')

/** npm (and its registry), cargo, the clone's sources (crates/, scripts/), Chromium. Python
 *  packages are asked of CONVTORCH_PYTHON by helpers/torch's pythonWith. */
export type Need = 'npm' | 'cargo' | 'sources' | 'chromium'

function runs(command: string): boolean {
  return spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 30_000 }).status === 0
}

/** Why this machine cannot give `need`, or null when it can. */
function lack(need: Need): string | null {
  if (need === 'npm') return runs('npm') ? null : 'npm is not on PATH (the test installs packages with it)'
  if (need === 'cargo') return runs('cargo') ? null : 'cargo is not on PATH (the test builds the addon)'
  if (need === 'sources') {
    const missing = ['Cargo.toml', 'crates', join('scripts', 'pack.mjs')].filter((p) => !existsSync(join(root, p)))
    return missing.length ? `${root} is not a convtorch clone (no ${missing.join(', ')}): the test builds from the sources` : null
  }
  return findChromium() ? null : "no chromium on this machine (apt-get install chromium; .ci/run installs Debian's chromium package)"
}

/** The reasons this machine lacks any of `needs` (empty when it has them all). */
export function lacking(needs: readonly Need[]): string[] {
  return needs.map(lack).filter((reason): reason is string => reason !== null)
}

/** Ends a test that cannot run here: a failure in CI, else a pass that logs `skipped: <reason>`. */
export function unavailable(t: ExecutionContext, reason: string, what?: string): void {
  if (process.env.CI) t.fail(`${what ? `${what} is required in CI: ` : 'required in CI: '}${reason}`)
  else {
    t.log(`skipped: ${reason}`)
    t.pass()
  }
}

/** True when the machine has every one of `needs`; otherwise ends the test as `unavailable` does. */
export function runsHere(t: ExecutionContext, needs: readonly Need[]): boolean {
  const reasons = lacking(needs)
  if (reasons.length === 0) return true
  unavailable(t, reasons.join('; '))
  return false
}
