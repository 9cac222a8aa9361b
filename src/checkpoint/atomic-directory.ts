// Replacing a directory atomically. rename(2) cannot swap a non-empty directory, so the name a
// user sees (the pointer) is a symbolic link to a complete version directory beside it: a new
// version is written and fsynced under a temporary name, renamed into place, and only then is
// the pointer switched (a new link renamed over the old one, which is atomic). A crash or
// kill -9 at any moment leaves the pointer on the previous version or on the new one.
import { lstat, mkdir, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'

const PARTIAL = '.partial'

/** fsync a file or a directory (its entries), so a rename after it publishes whole data. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await syncPath(join(dir, entry.name))
  }
  await syncPath(dir)
}

async function kindOf(path: string): Promise<'link' | 'directory' | 'other' | 'absent'> {
  try {
    const stats = await lstat(path)
    if (stats.isSymbolicLink()) return 'link'
    return stats.isDirectory() ? 'directory' : 'other'
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
    throw error
  }
}

/** The version directory a pointer designates now (absolute), or null where there is none. */
export async function pointerTarget(pointer: string): Promise<string | null> {
  const kind = await kindOf(pointer)
  if (kind === 'directory') return resolve(pointer)
  if (kind !== 'link') return null
  const target = await readlink(pointer)
  return isAbsolute(target) ? target : resolve(dirname(pointer), target)
}

/**
 * Writes a new version directory `version` with `fill`, then points `pointer` at it.
 * Returns the previous target (for the caller to delete when nothing else refers to it).
 */
export async function publishDirectory(pointer: string, version: string, fill: (dir: string) => Promise<void>): Promise<string | null> {
  const staging = `${version}${PARTIAL}`
  if ((await kindOf(version)) !== 'absent') {
    // A version of this name that the pointer does not use is what a killed writer left.
    if ((await pointerTarget(pointer)) === resolve(version)) throw new Error(`${version} is the checkpoint ${pointer} points at; a new version needs a new name`)
    await rm(version, { recursive: true, force: true })
  }
  await rm(staging, { recursive: true, force: true })
  await mkdir(staging, { recursive: true })
  await fill(staging)
  await syncTree(staging)
  await mkdir(dirname(version), { recursive: true })
  await rename(staging, version)
  await syncPath(dirname(version))

  const previous = await pointerTarget(pointer)
  const kind = await kindOf(pointer)
  if (kind === 'directory') {
    // A plain directory (an older layout) cannot be swapped: move it aside as a version first.
    const aside = `${version}.previous`
    await rename(pointer, aside)
    return switchPointer(pointer, version).then(() => aside)
  }
  if (kind === 'other') throw new Error(`${pointer} exists and is neither a directory nor a link`)
  await switchPointer(pointer, version)
  return previous
}

/** Points `pointer` at an existing, complete version directory (atomically). */
export async function switchPointer(pointer: string, version: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true })
  const link = `${pointer}.link${PARTIAL}`
  await rm(link, { force: true })
  // Relative, so that a run directory can be moved or copied whole.
  await symlink(relative(dirname(resolve(pointer)), resolve(version)), link)
  await rename(link, pointer)
  await syncPath(dirname(pointer))
}

/** Deletes staging directories a killed writer left behind in `dir`. */
export async function removeStaging(dir: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch {
    return
  }
  for (const name of entries) {
    if (name.endsWith(PARTIAL)) await rm(join(dir, name), { recursive: true, force: true })
  }
}
