import { Dataset, loadMnist, type Split } from '../../src/index'

let cached: Promise<Split> | undefined

/** The bundled MNIST, parsed once per test file. */
export function mnist(): Promise<Split> {
  cached ??= loadMnist()
  return cached
}

/** The first `count` training images as floats scaled like ToTensor, with their labels. */
export async function firstBatch(count: number): Promise<{ images: Float32Array; labels: Int32Array; dataset: Dataset }> {
  const { train } = await mnist()
  const slice = train.slice(0, count)
  const images = Float32Array.from(slice.images as Uint8Array, (v) => v / 255)
  return { images, labels: slice.labels, dataset: slice }
}
