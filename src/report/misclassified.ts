// The test images a model gets wrong, most confident first, each with its true and predicted
// class, the probability it gave, and the image as a PNG data URI (encoded by sharp).
import { normalisedCopy, type Dataset } from '../data/dataset'
import { sharp } from '../image/decode'
import { camOverlayPng } from '../inspect/draw'
import type { Model } from '../model/model'

export interface Misclassified {
  /** Index in the test set. */
  index: number
  label: number
  predicted: number
  /** The probability of the predicted class. */
  probability: number
  /** Of the true class. */
  labelProbability: number
  png: string
  /** Grad-CAM for the predicted class over the image (PNG data URI); null without convolutions. */
  cam: string | null
}

/** Pixels of one example as bytes, channels last, as an image encoder wants them. */
function imageBytes(set: Dataset, index: number): Buffer {
  const [c, h, w] = set.shape
  const per = c * h * w
  const bytes = Buffer.alloc(per)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const v = set.images[index * per + k * h * w + y * w + x]
        bytes[(y * w + x) * c + k] = set.images instanceof Uint8Array ? v : Math.max(0, Math.min(255, Math.round(v * 255)))
      }
    }
  }
  return bytes
}

/** The model's input for some examples: scaled like training (bytes / 255), then normalised. */
function inputs(model: Model, set: Dataset, indices: number[]): Float32Array {
  const per = set.shape[0] * set.shape[1] * set.shape[2]
  const scaled = new Float32Array(indices.length * per)
  const scale = set.images instanceof Uint8Array ? 1 / 255 : 1
  indices.forEach((index, row) => {
    for (let i = 0; i < per; i++) scaled[row * per + i] = set.images[index * per + i] * scale
  })
  return normalisedCopy(scaled, set.shape, model.normalise)
}

/**
 * Up to `limit` misclassified examples of `testSet`, most confident mistakes first. The
 * predictions come from one evaluation on the device; probabilities only for the mistakes.
 */
export async function misclassified(model: Model, testSet: Dataset, options: { limit?: number; scale?: number } = {}): Promise<Misclassified[]> {
  const uploaded = testSet.toDevice(model.device, model.normalise ?? undefined)
  let predictions: Int32Array
  try {
    predictions = (await model.evaluate(uploaded)).predictions
  } finally {
    uploaded.dispose()
  }
  // Enough mistakes to rank by confidence, without predicting a whole poor model's test set again.
  const wrong = Array.from(predictions.keys()).filter((i) => predictions[i] !== testSet.labels[i]).slice(0, 2000)
  if (wrong.length === 0) return []
  const { probabilities } = model.predict(inputs(model, testSet, wrong))
  const k = model.classes
  const ranked = wrong
    .map((index, row) => ({ index, label: testSet.labels[index], predicted: predictions[index], probability: probabilities[row * k + predictions[index]], labelProbability: probabilities[row * k + testSet.labels[index]] }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, options.limit ?? 40)
  const [c, h, w] = testSet.shape
  const scale = options.scale ?? 3
  // One native call for every map: where the evidence for the wrong class lies.
  const hasConvolution = model.layers.some((l) => l.type === 'conv2d')
  const cams = hasConvolution ? model.gradCam(inputs(model, testSet, ranked.map((r) => r.index)), ranked.map((r) => r.predicted)) : null
  const uri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`
  return Promise.all(
    ranked.map(async (item, row) => {
      const png = await sharp()(imageBytes(testSet, item.index), { raw: { width: w, height: h, channels: c as 1 | 3 } })
        .resize(w * scale, h * scale, { kernel: 'nearest' })
        .png()
        .toBuffer()
      let cam: string | null = null
      if (cams) {
        const [, ch, cw] = cams.shape
        const display = Float32Array.from(imageBytes(testSet, item.index), (v) => v / 255)
        // imageBytes is channels last; the overlay takes planes.
        const planar = new Float32Array(display.length)
        for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) planar[k * h * w + i] = display[i * c + k]
        cam = uri(await camOverlayPng(planar, c, h, w, cams.values.subarray(row * ch * cw, (row + 1) * ch * cw), ch, cw, scale))
      }
      return { ...item, png: uri(png), cam }
    }),
  )
}
