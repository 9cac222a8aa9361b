// Filesystem failures as typed errors that name the path and say what it means for the user,
// instead of Node's bare "EEXIST: file already exists, mkdir ..." with a stack.
import { CheckpointError } from '../errors'

const MEANING: Record<string, string> = {
  EEXIST: 'a file is there where a directory is needed',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EISDIR: 'a directory is there where a file is needed',
}

/** `error` (from node:fs) as a CheckpointError about `path`; other errors pass through. */
export function fileSystemError(error: unknown, path: string, doing: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error
  const where = (error as NodeJS.ErrnoException).path ?? path
  return new CheckpointError(`${where}: cannot ${doing}: ${MEANING[code] ?? (error as Error).message} (${code})`, { cause: error })
}
