// A temporary directory per test file, removed after its tests, handing out fresh subfolders.
import test from 'ava'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function scratchDirectories(prefix: string): (name: string) => Promise<string> {
  let root = ''
  let n = 0
  test.before(async () => {
    root = await mkdtemp(join(tmpdir(), `convtorch-${prefix}-`))
  })
  test.after.always(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })
  return async (name) => {
    const dir = join(root, `${name}-${n++}`)
    await mkdir(dir, { recursive: true })
    return dir
  }
}
