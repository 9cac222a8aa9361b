import test from 'ava'
import { accuracy, confusionMatrix, perClassMetrics } from '../src/index'

// labels:      0 0 0 1 1 2
// predictions: 0 0 1 1 2 2
test('the confusion matrix counts [actual][predicted]', (t) => {
  const matrix = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3)
  t.deepEqual(matrix, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ])
  t.is(accuracy(matrix), 4 / 6)
})

test('precision, recall and F1 match the hand-computed values', (t) => {
  const metrics = perClassMetrics(confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3))
  // class 0: tp 2, predicted 2, actual 3 -> p 1, r 2/3, f1 0.8
  t.is(metrics[0].precision, 1)
  t.is(metrics[0].recall, 2 / 3)
  t.true(Math.abs(metrics[0].f1 - 0.8) < 1e-12)
  // class 1: tp 1, predicted 2, actual 2 -> p 0.5, r 0.5, f1 0.5
  t.deepEqual([metrics[1].precision, metrics[1].recall, metrics[1].f1, metrics[1].support], [0.5, 0.5, 0.5, 2])
  // class 2: tp 1, predicted 2, actual 1 -> p 0.5, r 1, f1 2/3
  t.is(metrics[2].recall, 1)
  t.true(Math.abs(metrics[2].f1 - 2 / 3) < 1e-12)
})

test('a class never predicted nor present has zeros, not NaN', (t) => {
  const metrics = perClassMetrics(confusionMatrix([0, 1], [0, 1], 3))
  t.deepEqual(metrics[2], { class: 2, precision: 0, recall: 0, f1: 0, support: 0 })
})
