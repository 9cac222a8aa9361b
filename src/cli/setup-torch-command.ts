import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

/** Runs the installer shipped with the package (scripts/setup-torch.mjs), passing its flags. */
export function setupTorchCommand(argv: string[]): number {
  const script = join(__dirname, '..', '..', '..', 'scripts', 'setup-torch.mjs')
  const result = spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit' })
  return result.status ?? 1
}
