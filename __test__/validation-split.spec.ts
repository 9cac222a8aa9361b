import test from 'ava'
import { Dataset, InvalidArgumentError, validationSplit } from '../src/index'

/** Classes of the given sizes, interleaved; pixel 0 of example i is i, so examples can be told apart. */
function dataset(sizes: number[]): Dataset {
  const labels: number[] = []
  const left = [...sizes]
  while (left.some((n) => n > 0)) left.forEach((n, c) => n > 0 && (labels.push(c), left[c]--))
  const images = new Float32Array(labels.length * 2)
  labels.forEach((_, i) => (images[2 * i] = i))
  return Dataset.fromArrays({ images, labels, shape: [1, 1, 2], classes: sizes.length })
}

const ids = (d: Dataset) => Array.from({ length: d.count }, (_, i) => d.images[2 * i])
const perClass = (d: Dataset) => Array.from({ length: d.classes }, (_, c) => d.labels.filter((l) => l === c).length)

test('each class gives the same share to validation; the two parts partition the dataset, in order', (t) => {
  const all = dataset([50, 30, 20])
  const { train, validation } = validationSplit(all, 0.2, 1)
  t.deepEqual(perClass(validation), [10, 6, 4])
  t.deepEqual(perClass(train), [40, 24, 16])
  const [a, b] = [ids(train), ids(validation)]
  t.deepEqual([...a, ...b].sort((x, y) => x - y), ids(all))
  t.deepEqual(a, [...a].sort((x, y) => x - y), 'train keeps the dataset order')
  t.deepEqual(b, [...b].sort((x, y) => x - y), 'validation keeps the dataset order')
  train.labels.forEach((label, i) => t.is(all.labels[a[i]], label))
})

test('a class share of n x fraction is rounded to the nearest count, halves up', (t) => {
  t.deepEqual(perClass(validationSplit(dataset([5, 3, 7]), 0.5, 0).validation), [3, 2, 4])
  t.deepEqual(perClass(validationSplit(dataset([9, 4]), 0.1, 0).validation), [1, 0])
})

test('the same fraction and seed give the same split; another seed another', (t) => {
  const all = dataset([40, 40, 40])
  const one = ids(validationSplit(all, 0.25, 7).validation)
  t.deepEqual(ids(validationSplit(all, 0.25, 7).validation), one)
  t.notDeepEqual(ids(validationSplit(all, 0.25, 8).validation), one)
})

test('a fraction outside (0, 1), an empty part and a bad seed are InvalidArgumentErrors naming the field', (t) => {
  const all = dataset([3, 3])
  for (const fraction of [0, 1, -0.1, Number.NaN, '0.1' as unknown as number]) {
    t.throws(() => validationSplit(all, fraction), { instanceOf: InvalidArgumentError, message: /validationSplit\(\): fraction must be a number between 0 and 1 \(exclusive\)/ }, String(fraction))
  }
  t.throws(() => validationSplit(all, 0.1), { instanceOf: InvalidArgumentError, message: /fraction must be a share that leaves both parts non-empty \(the validation part of 6 examples would be empty\), got 0.1/ })
  t.throws(() => validationSplit(all, 0.9), { message: /the training part of 6 examples would be empty/ })
  t.throws(() => validationSplit(all, 0.5, 1.5), { instanceOf: InvalidArgumentError, message: /seed must be a non-negative integer, got 1.5/ })
})

test('Dataset.gather() copies the examples at the indices and refuses one out of range', (t) => {
  const all = Dataset.fromArrays({ images: Uint8Array.of(1, 2, 3, 4, 5, 6), labels: [0, 1, 0], shape: [1, 1, 2], classes: 2 })
  const picked = all.gather([2, 0, 2])
  t.deepEqual(Array.from(picked.images), [5, 6, 1, 2, 5, 6])
  t.deepEqual(Array.from(picked.labels), [0, 0, 0])
  t.true(picked.images instanceof Uint8Array)
  ;(all.images as Uint8Array)[0] = 99
  t.is(picked.images[2], 1, 'a copy, not a view')
  t.throws(() => all.gather([0, 3]), { instanceOf: InvalidArgumentError, message: /Dataset\.gather\(\): indices\[1\] must be an integer in \[0, 3\), got 3/ })
  t.throws(() => all.gather([]), { instanceOf: InvalidArgumentError, message: /indices must be at least one example index/ })
})
