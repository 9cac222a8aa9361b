import test from 'ava'
import { epochOrder, permutation, Rng } from '../src/index'

test('an epoch order is a permutation, the same for the same seed and epoch', (t) => {
  const a = epochOrder(1, 3, 1000)
  const b = epochOrder(1, 3, 1000)
  t.deepEqual(a, b)
  t.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i))
})

test('epochs and seeds give different orders', (t) => {
  t.notDeepEqual(epochOrder(1, 1, 1000), epochOrder(1, 2, 1000))
  t.notDeepEqual(epochOrder(1, 1, 1000), epochOrder(2, 1, 1000))
})

test('every position is roughly uniform over many shuffles', (t) => {
  const rng = new Rng(42)
  const firstCounts = Array.from({ length: 4 }, () => 0)
  for (let i = 0; i < 8000; i++) firstCounts[permutation(4, rng)[0]]++
  for (const count of firstCounts) t.true(Math.abs(count - 2000) < 200, `count ${count} far from 2000`)
})

test('Rng.below() stays within its bound', (t) => {
  const rng = new Rng(7)
  for (let i = 0; i < 1000; i++) {
    const value = rng.below(3)
    t.true(value >= 0 && value < 3)
  }
})
