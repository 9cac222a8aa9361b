import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { encodeIdx, MNIST_FILES } from '../../src/index'
import { mnist } from './mnist'

/** A directory of gzipped MNIST-named IDX files holding the first examples of each split. */
export async function smallMnistDir(trainCount: number, testCount: number): Promise<string> {
  const { train, test } = await mnist()
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-idx-'))
  const write = (name: string, dims: number[], bytes: Uint8Array) => writeFile(join(dir, `${name}.gz`), gzipSync(encodeIdx(dims, bytes)))
  const a = train.slice(0, trainCount)
  const b = test.slice(0, testCount)
  await write(MNIST_FILES.trainImages, [trainCount, 28, 28], a.images as Uint8Array)
  await write(MNIST_FILES.trainLabels, [trainCount], Uint8Array.from(a.labels))
  await write(MNIST_FILES.testImages, [testCount, 28, 28], b.images as Uint8Array)
  await write(MNIST_FILES.testLabels, [testCount], Uint8Array.from(b.labels))
  return dir
}
