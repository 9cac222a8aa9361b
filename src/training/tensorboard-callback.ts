// TensorBoard event files as a callback: per batch the loss and learning rate (at the global
// step), per epoch the losses, accuracies and rate (at the epoch), and at the end the test
// loss, accuracy and confusion matrix as an image. A resumed run starts a new events file.
import { invalidArgument } from '../errors'
import { sharp } from '../image/decode'
import { confusionChart } from '../report/charts'
import { chartPng, compileChart } from '../report/render'
import { classNamesOf } from '../report/report-input'
import { EventFile } from '../tensorboard/event-file'
import type { SummaryValue } from '../tensorboard/event-proto'
import { batchLearningRate } from './batch-rate'
import type { BatchEnd, Callback, EpochEnd, FitContext } from './callbacks'
import type { TrainResult } from './train'

export interface TensorboardOptions {
  /** The log directory TensorBoard is pointed at (`tensorboard --logdir DIR`). */
  dir: string
}

/** Writes TensorBoard event files into `dir`: loss and learning rate per batch, metrics per epoch, the test confusion matrix at the end. */
export function tensorboard(options: TensorboardOptions): Callback {
  if (typeof options?.dir !== 'string' || options.dir === '') throw invalidArgument('tensorboard()', 'dir', options?.dir, 'a directory path')
  let file: EventFile | null = null
  let queued = 0
  const events = () => (file ??= new EventFile(options.dir))
  const flush = () => {
    file?.flush()
    queued = 0
  }
  return {
    onTrainBegin() {
      events()
    },
    onBatchEnd(batch: BatchEnd, context: FitContext) {
      const rate = batchLearningRate(context.options, context.batchesPerEpoch, batch.epoch, batch.batch)
      events().add(context.loop.step, [
        { tag: 'batch/loss', scalar: batch.loss },
        { tag: 'batch/learning_rate', scalar: rate },
      ])
      // Written once per native call's burst, not per batch.
      if (++queued >= context.options.batchesPerCall || batch.batch === batch.batches - 1) flush()
    },
    onEpochEnd(end: EpochEnd) {
      const values: SummaryValue[] = [
        { tag: 'epoch/train_loss', scalar: end.trainLoss },
        { tag: 'epoch/learning_rate', scalar: end.learningRate },
      ]
      if (end.trainAccuracy !== null) values.push({ tag: 'epoch/train_accuracy', scalar: end.trainAccuracy })
      if (end.testLoss !== null) values.push({ tag: 'epoch/test_loss', scalar: end.testLoss })
      if (end.testAccuracy !== null) values.push({ tag: 'epoch/test_accuracy', scalar: end.testAccuracy })
      events().add(end.epoch, values)
      flush()
    },
    onInterrupt: flush,
    async onTrainEnd(result: TrainResult, context: FitContext) {
      const names = classNamesOf(result.model.describe().classNames, result.model.classes)
      const png = await chartPng(await compileChart(confusionChart(result.test.confusionMatrix, names)))
      const { width, height, channels } = await sharp()(png).metadata()
      events().add(context.loop.step, [
        { tag: 'test/loss', scalar: result.test.loss },
        { tag: 'test/accuracy', scalar: result.test.accuracy },
        { tag: 'test/confusion_matrix', image: { width: width!, height: height!, colorspace: channels ?? 4, png } },
      ])
      flush()
    },
  }
}
