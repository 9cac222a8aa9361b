// The layout of an image folder, as Keras' image_dataset_from_directory and torchvision's
// ImageFolder read it: DIR/<class>/<images>, or DIR/train/<class>/... beside DIR/test/ or DIR/val/.
import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { DatasetError } from '../errors'
import { IMAGE_EXTENSIONS } from '../image/list-files'

export type SplitName = 'train' | 'test' | 'validation'

export interface FolderSplit {
  name: SplitName
  dir: string
  /** Image files, class by class (classes sorted), each class's files sorted by relative path. */
  files: string[]
  labels: Int32Array
}

export interface FolderListing {
  /** 'classes': DIR/<class>/...; 'splits': DIR/train/<class>/... and test/ or val/. */
  layout: 'classes' | 'splits'
  classNames: string[]
  splits: FolderSplit[]
}

// Code-unit order, like Python's sorted(): the same classes and files on every machine and locale.
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.')
  return dot > 0 && (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase())
}

async function entries(dir: string) {
  try {
    // Hidden entries (.DS_Store, .ipynb_checkpoints) are neither classes nor images.
    return (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'))
  } catch (error) {
    throw new DatasetError(`${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error })
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  return (await entries(dir))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byCodeUnit)
}

/** Image files under `dir`, any depth (as torchvision walks a class folder), sorted by relative path. */
async function imagesUnder(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (at: string) => {
    for (const entry of await entries(at)) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && isImageName(entry.name)) found.push(path)
    }
  }
  await walk(dir)
  return found.sort((a, b) => byCodeUnit(relative(dir, a), relative(dir, b)))
}

async function listClasses(dir: string, name: SplitName, classNames: string[]): Promise<FolderSplit> {
  const files: string[] = []
  const labels: number[] = []
  for (const [label, className] of classNames.entries()) {
    const images = await imagesUnder(join(dir, className))
    if (images.length === 0) throw new DatasetError(`${join(dir, className)} holds no ${IMAGE_EXTENSIONS.join(', ')} files; every class folder needs at least one image`)
    files.push(...images)
    for (let i = 0; i < images.length; i++) labels.push(label)
  }
  return { name, dir, files, labels: Int32Array.from(labels) }
}

function checkClassCount(dir: string, classNames: string[]): void {
  if (classNames.length < 2) {
    throw new DatasetError(`${dir} has ${classNames.length === 0 ? 'no class folders' : `one class folder (${classNames[0]})`}; an image folder needs at least 2 classes, one subfolder each`)
  }
}

function sameClasses(train: { dir: string; classNames: string[] }, other: { dir: string; classNames: string[] }): void {
  const missing = train.classNames.filter((c) => !other.classNames.includes(c))
  const extra = other.classNames.filter((c) => !train.classNames.includes(c))
  if (missing.length === 0 && extra.length === 0) return
  const parts = [missing.length > 0 ? `lacks ${missing.join(', ')}` : '', extra.length > 0 ? `has ${extra.join(', ')} not in ${train.dir}` : ''].filter(Boolean)
  throw new DatasetError(`${other.dir} ${parts.join(' and ')}; the class folders of every split must be the same (${train.dir}: ${train.classNames.join(', ')})`)
}

async function hasImages(dir: string): Promise<boolean> {
  for (const name of await subdirectories(dir)) {
    if ((await imagesUnder(join(dir, name))).length > 0) return true
  }
  return false
}

/**
 * Lists `dir` as an image folder, or returns undefined when it is none (no subfolder holds
 * images). With train/ present the split layout is used: test/ is the test split, val/ the
 * test split when there is no test/, and the validation split beside test/ otherwise.
 */
export async function listImageFolder(dir: string): Promise<FolderListing | undefined> {
  const top = await subdirectories(dir)
  if (top.includes('train') && (await hasImages(join(dir, 'train')))) {
    const trainDir = join(dir, 'train')
    const classNames = await subdirectories(trainDir)
    checkClassCount(trainDir, classNames)
    const others: Array<[string, SplitName]> = top.includes('test') ? [['test', 'test']] : []
    if (top.includes('val')) others.push(['val', others.length > 0 ? 'validation' : 'test'])
    const splits = [await listClasses(trainDir, 'train', classNames)]
    for (const [folder, name] of others) {
      const splitDir = join(dir, folder)
      sameClasses({ dir: trainDir, classNames }, { dir: splitDir, classNames: await subdirectories(splitDir) })
      splits.push(await listClasses(splitDir, name, classNames))
    }
    return { layout: 'splits', classNames, splits }
  }
  if (!(await hasImages(dir))) return undefined
  const classNames = top
  checkClassCount(dir, classNames)
  return { layout: 'classes', classNames, splits: [await listClasses(dir, 'train', classNames)] }
}
