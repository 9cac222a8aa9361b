// Judging a model on labelled data: loss, accuracy, the confusion matrix and per-class
// precision, recall and F1. train() reports its test set with the same function.
import type { Dataset } from '../data/dataset'
import type { DeviceDataset } from '../data/device-dataset'
import { invalidArgument } from '../errors'
import type { Model } from '../model/model'
import { confusionMatrix, perClassMetrics, type ClassMetrics } from '../training/metrics'

export interface EvaluationReport {
  accuracy: number
  /** Mean cross-entropy. */
  loss: number
  correct: number
  count: number
  /** [actual][predicted] counts. */
  confusionMatrix: number[][]
  perClass: ClassMetrics[]
}

/**
 * The report for data already on the model's device, whose labels are `labels`; with
 * `acrossRanks`, shared by the ranks of a data-parallel group (see Model.evaluate).
 */
export async function evaluateUploaded(model: Model, data: DeviceDataset, labels: Int32Array, batchSize = 256, acrossRanks = false): Promise<EvaluationReport> {
  const evaluation = await model.evaluate(data, { batchSize, acrossRanks })
  const matrix = confusionMatrix(labels, evaluation.predictions, model.classes)
  return { accuracy: evaluation.accuracy, loss: evaluation.loss, correct: evaluation.correct, count: evaluation.count, confusionMatrix: matrix, perClass: perClassMetrics(matrix) }
}

/** Evaluates `model` on `dataset`, prepared as the model was trained (its normalisation). */
export async function evaluate(model: Model, dataset: Dataset, options: { batchSize?: number } = {}): Promise<EvaluationReport> {
  const [c, h, w] = model.spec.input
  if (dataset.shape[0] !== c || dataset.shape[1] !== h || dataset.shape[2] !== w) {
    throw invalidArgument('evaluate()', 'dataset', `examples of shape ${dataset.shape.join('x')}`, `examples of the model's input shape ${model.spec.input.join('x')}`)
  }
  if (dataset.classes > model.classes) throw invalidArgument('evaluate()', 'dataset', `${dataset.classes} classes`, `at most the model's ${model.classes} classes`)
  const uploaded = dataset.toDevice(model.device, model.normalise ?? undefined)
  try {
    return await evaluateUploaded(model, uploaded, dataset.labels, options.batchSize)
  } finally {
    uploaded.dispose()
  }
}
