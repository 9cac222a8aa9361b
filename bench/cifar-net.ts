// The benchmark's second network (bench/pytorch_cifar_net.py's CifarNet as a spec) and its
// synthetic data: seeded bytes of CIFAR's shape written once as IDX files, so that every
// contender trains on the same tensors.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeIdx, Rng, type ModelSpec } from '../src/index'

export const CIFAR_FILES = { trainImages: 'train-images.idx', trainLabels: 'train-labels.idx', testImages: 'test-images.idx', testLabels: 'test-labels.idx' } as const

export function cifarNetSpec(): ModelSpec {
  const conv = (name: string, filters: number) => ({ type: 'conv2d' as const, name, filters, kernel: 3, padding: 1 as const })
  return {
    input: [3, 32, 32],
    classes: 10,
    layers: [
      conv('conv_1', 32),
      { type: 'relu' },
      conv('conv_2', 32),
      { type: 'relu' },
      { type: 'maxPool2d', kernel: 2 },
      conv('conv_3', 64),
      { type: 'relu' },
      conv('conv_4', 64),
      { type: 'relu' },
      { type: 'maxPool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'linear', name: 'linear_1', units: 512 },
      { type: 'relu' },
      { type: 'linear', name: 'linear_2', units: 10 },
    ],
  }
}

function writeSplit(dir: string, imagesName: string, labelsName: string, count: number, rng: Rng): void {
  const pixels = new Uint8Array(count * 3 * 32 * 32)
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.nextUint32() & 0xff
  const labels = new Uint8Array(count)
  for (let i = 0; i < count; i++) labels[i] = rng.nextUint32() % 10
  writeFileSync(join(dir, imagesName), encodeIdx([count, 3, 32, 32], pixels))
  writeFileSync(join(dir, labelsName), encodeIdx([count], labels))
}

/** Writes `examples` training and `examples / 5` test examples (seed 1) into `dir`. */
export function writeSyntheticCifar(dir: string, examples: number): void {
  const rng = new Rng(1)
  writeSplit(dir, CIFAR_FILES.trainImages, CIFAR_FILES.trainLabels, examples, rng)
  writeSplit(dir, CIFAR_FILES.testImages, CIFAR_FILES.testLabels, Math.max(1, Math.floor(examples / 5)), rng)
}
