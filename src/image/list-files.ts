// The image files named by a list of paths: files as given, directories expanded one level.
import { readdir, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { ImageError, invalidArgument } from '../errors'

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const

function isImageName(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase())
}

async function statOf(path: string) {
  try {
    return await stat(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`
    throw new ImageError(`listImageFiles(): ${path} ${why}`, { cause: error })
  }
}

async function filesIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter(isImageName)
  // Code-unit order, not the locale's: the same list on every machine.
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const files: string[] = []
  for (const name of names) {
    const path = join(dir, name)
    if ((await statOf(path)).isFile()) files.push(path)
  }
  if (files.length === 0) throw new ImageError(`listImageFiles(): directory ${dir} holds no ${IMAGE_EXTENSIONS.join(', ')} files`)
  return files
}

/**
 * Files are kept as given, whatever their extension (decoding checks them); a directory gives
 * its .png/.jpg/.jpeg/.webp files (any case), sorted, without descending into subdirectories.
 */
export async function listImageFiles(paths: string | readonly string[]): Promise<string[]> {
  const list = typeof paths === 'string' ? [paths] : paths
  if (!Array.isArray(list) || list.length === 0) throw invalidArgument('listImageFiles()', 'paths', paths, 'a path or a non-empty array of paths')
  const bad = list.findIndex((p) => typeof p !== 'string' || p === '')
  if (bad >= 0) throw invalidArgument('listImageFiles()', `paths[${bad}]`, list[bad], 'a path')
  const files: string[] = []
  for (const path of list) {
    if ((await statOf(path)).isDirectory()) files.push(...(await filesIn(path)))
    else files.push(path)
  }
  return files
}
