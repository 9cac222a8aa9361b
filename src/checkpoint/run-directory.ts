// A run directory is checked before any training: a run that cannot save would otherwise find
// out after its first epoch.
import { constants } from 'node:fs'
import { access, mkdir, stat } from 'node:fs/promises'
import { CheckpointError } from '../errors'
import { fileSystemError } from './file-system-error'

/** Creates `dir` (with its parents) where it is missing and checks that it can be written. */
export async function prepareRunDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
    if (!(await stat(dir)).isDirectory()) throw new CheckpointError(`${dir}: cannot hold a run: it is a file, not a directory`)
    await access(dir, constants.W_OK | constants.X_OK)
  } catch (error) {
    throw fileSystemError(error, dir, 'hold a run')
  }
}
