// Class predictions for image files: decode and preprocess each file, then one forward pass per
// batch of files.
import { invalidArgument } from '../errors'
import { checkPreprocess, modelInputFromFile, type Preprocess } from '../image/preprocess'
import type { Model } from '../model/model'
import { normalisedCopy } from '../data/dataset'


export interface ClassScore {
  label: number
  probability: number
  /** Present when the caller passed classNames. */
  className?: string
}

export interface FilePrediction {
  file: string
  label: number
  className?: string
  /** One probability per class. */
  probabilities: Float32Array
  /** The `top` most probable classes, most probable first. */
  top: ClassScore[]
}

export interface PredictFilesOptions {
  /** How many classes `top` lists; default 3 (at most the class count). */
  top?: number
  /** Default 'mnist' for 1x28x28 models, else 'resize'. */
  preprocess?: Preprocess
  /** One name per class, e.g. ['zero', 'one', ...]; default: the model's own, if it has them. */
  classNames?: readonly string[]
  /** Files decoded and predicted together; default 64. */
  batchSize?: number
}

const CONTEXT = 'predictFiles()'

function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || (value as number) < 1) throw invalidArgument(CONTEXT, field, value, 'a positive integer')
  return value as number
}

function checkClassNames(names: unknown, classes: number): readonly string[] | undefined {
  if (names === undefined) return undefined
  const expected = `an array of ${classes} strings, one per class`
  if (!Array.isArray(names)) throw invalidArgument(CONTEXT, 'classNames', names, expected)
  if (names.length !== classes) throw invalidArgument(CONTEXT, 'classNames', `${names.length} names`, expected)
  const bad = names.findIndex((n) => typeof n !== 'string')
  if (bad >= 0) throw invalidArgument(CONTEXT, `classNames[${bad}]`, names[bad], 'a string')
  return names
}

function ranked(probabilities: Float32Array, count: number, names: readonly string[] | undefined): ClassScore[] {
  const labels = Array.from(probabilities.keys())
  // Ties go to the lower label, as argmax does.
  labels.sort((a, b) => probabilities[b] - probabilities[a] || a - b)
  return labels.slice(0, count).map((label) => ({ label, probability: probabilities[label], ...(names ? { className: names[label] } : {}) }))
}

/** Predicts every file in order; an unreadable file is an ImageError naming it. */
export async function predictFiles(model: Model, files: readonly string[], options: PredictFilesOptions = {}): Promise<FilePrediction[]> {
  if (!Array.isArray(files)) throw invalidArgument(CONTEXT, 'files', files, 'an array of file paths')
  const bad = files.findIndex((f) => typeof f !== 'string' || f === '')
  if (bad >= 0) throw invalidArgument(CONTEXT, `files[${bad}]`, files[bad], 'a file path')
  const classes = model.classes
  const top = Math.min(positiveInteger('top', options.top, 3), classes)
  const batchSize = positiveInteger('batchSize', options.batchSize, 64)
  const names = checkClassNames(options.classNames ?? model.classNames ?? undefined, classes)
  const input = model.spec.input
  const preprocess = checkPreprocess(CONTEXT, options.preprocess, input)
  const perImage = input[0] * input[1] * input[2]

  const results: FilePrediction[] = []
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize)
    const inputs = await Promise.all(batch.map((file) => modelInputFromFile(file, preprocess, input)))
    const images = new Float32Array(batch.length * perImage)
    inputs.forEach((pixels, i) => images.set(pixels, i * perImage))
    // Prepared as the training data was: scaled to [0, 1], then the model's normalisation.
    const prepared = normalisedCopy(images, input, model.normalise)
    const { labels, probabilities } = model.predict(prepared)
    batch.forEach((file, i) => {
      const own = probabilities.slice(i * classes, (i + 1) * classes)
      const label = labels[i]
      results.push({ file, label, ...(names ? { className: names[label] } : {}), probabilities: own, top: ranked(own, top, names) })
    })
  }
  return results
}
