// A seeded, stratified hold-out: each class gives the same share of its examples to validation.
import { invalidArgument } from '../errors'
import type { Dataset } from './dataset'
import { permutation, Rng } from './shuffle'

export interface ValidationSplit {
  train: Dataset
  validation: Dataset
}

/**
 * Holds out round(fraction x n) of each class's n examples (halves round up), drawn by a seeded
 * permutation per class; both parts keep the dataset's order. The same dataset, fraction and
 * seed give the same split.
 */
export function validationSplit(dataset: Dataset, fraction: number, seed = 0): ValidationSplit {
  const context = 'validationSplit()'
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw invalidArgument(context, 'fraction', fraction, 'a number between 0 and 1 (exclusive)')
  if (!Number.isInteger(seed) || seed < 0) throw invalidArgument(context, 'seed', seed, 'a non-negative integer')
  const byClass = Array.from({ length: dataset.classes }, () => [] as number[])
  dataset.labels.forEach((label, i) => byClass[label].push(i))
  const held = new Uint8Array(dataset.count)
  const rng = new Rng(seed)
  for (const members of byClass) {
    const take = Math.round(fraction * members.length)
    const order = permutation(members.length, rng)
    for (let k = 0; k < take; k++) held[members[order[k]]] = 1
  }
  const validation: number[] = []
  const train: number[] = []
  held.forEach((h, i) => (h ? validation : train).push(i))
  if (validation.length === 0 || train.length === 0) {
    const empty = validation.length === 0 ? 'validation' : 'training'
    throw invalidArgument(context, 'fraction', fraction, `a share that leaves both parts non-empty (the ${empty} part of ${dataset.count} examples would be empty)`)
  }
  return { train: dataset.gather(train), validation: dataset.gather(validation) }
}
