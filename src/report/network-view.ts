// "What the network sees" in a report: the first convolution's learned filters and, for the
// first few test images, the feature maps after each convolution and pooling layer with a
// Grad-CAM map of the evidence for the predicted class (src/inspect/).
import { normalisedCopy, type Dataset } from '../data/dataset'
import { inspectImage } from '../inspect/inspect-image'
import type { Model } from '../model/model'

export interface NetworkView {
  /** PNG data URI of the filters, or null for a model without convolutions. */
  filters: string | null
  examples: Array<{ index: number; label: number; predicted: number; layers: Array<{ title: string; png: string }>; cam: string | null }>
}

const uri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`

/** The example's pixels in [0, 1], and prepared as training prepared them. */
function example(model: Model, set: Dataset, index: number): { display: Float32Array; input: Float32Array } {
  const [c, h, w] = set.shape
  const per = c * h * w
  const scale = set.images instanceof Uint8Array ? 1 / 255 : 1
  const display = Float32Array.from(set.images.subarray(index * per, (index + 1) * per) as ArrayLike<number>, (v) => v * scale)
  return { display, input: normalisedCopy(display, set.shape, model.normalise) }
}

export async function networkView(model: Model, testSet: Dataset, count = 3): Promise<NetworkView | null> {
  if (!model.layers.some((l) => l.type === 'conv2d')) return null
  const examples: NetworkView['examples'] = []
  let filters: string | null = null
  for (let index = 0; index < Math.min(count, testSet.count); index++) {
    const { display, input } = example(model, testSet, index)
    const seen = await inspectImage(model, input, display)
    filters ??= seen.filters ? uri(seen.filters) : null
    examples.push({
      index,
      label: testSet.labels[index],
      predicted: seen.predicted,
      layers: seen.layers.map((l) => ({ title: `layer ${l.layer} (${l.type}) ${l.shape.join('x')}`, png: uri(l.png) })),
      cam: seen.cam ? uri(seen.cam) : null,
    })
  }
  return { filters, examples }
}
