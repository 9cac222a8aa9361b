// Classification metrics from labels and predictions.

export interface ClassMetrics {
  class: number
  precision: number
  recall: number
  f1: number
  /** Examples of this class in the labels. */
  support: number
}

/** matrix[actual][predicted] counts. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes: number): number[][] {
  if (labels.length !== predictions.length) {
    throw new RangeError(`confusionMatrix(): ${labels.length} labels but ${predictions.length} predictions`)
  }
  const matrix = Array.from({ length: classes }, () => Array.from({ length: classes }, () => 0))
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predictions[i]]++
  return matrix
}

export function accuracy(matrix: number[][]): number {
  const total = matrix.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0)
  const correct = matrix.reduce((sum, row, k) => sum + row[k], 0)
  return total === 0 ? 0 : correct / total
}

/** Precision, recall and F1 per class; 0 where a ratio has nothing to divide by. */
export function perClassMetrics(matrix: number[][]): ClassMetrics[] {
  return matrix.map((row, k) => {
    const truePositives = row[k]
    const support = row.reduce((a, b) => a + b, 0)
    const predicted = matrix.reduce((sum, r) => sum + r[k], 0)
    const precision = predicted === 0 ? 0 : truePositives / predicted
    const recall = support === 0 ? 0 : truePositives / support
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
    return { class: k, precision, recall, f1, support }
  })
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]
  return values.length === 0 ? NaN : sum / values.length
}
