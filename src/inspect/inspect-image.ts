// One image seen by a model: its first convolution's filters, the feature maps after each
// convolution and pooling layer, and Grad-CAM for a class, as PNG pictures.
import type { FeatureMaps, Model } from '../model/model'
import { camOverlayPng, greyPng, tileGrid } from './draw'

export interface Inspection {
  predicted: number
  probabilities: Float32Array
  /** The class the activation map explains (the predicted one unless asked otherwise). */
  camClass: number
  filters: Buffer | null
  layers: Array<{ layer: number; type: FeatureMaps['type']; shape: number[]; png: Buffer }>
  cam: Buffer | null
}

/** `image`: one [c, h, w] input prepared like training; `display`: the same in [0, 1] for the overlay. */
export async function inspectImage(model: Model, image: Float32Array, display: Float32Array, camClass?: number): Promise<Inspection> {
  const [channels, height, width] = model.spec.input
  const { labels, probabilities } = model.predict(image)
  const target = camClass ?? labels[0]
  const layers = []
  for (const maps of model.featureMaps(image)) {
    const [, planes, h, w] = maps.shape
    layers.push({ layer: maps.layer, type: maps.type, shape: maps.shape.slice(1), png: await greyPng(tileGrid(maps.values, planes, h, w, Math.max(1, Math.round(56 / h)))) })
  }
  const convs = model.layers.filter((l) => l.type === 'conv2d')
  let filters: Buffer | null = null
  if (convs.length > 0) {
    const weight = model.parameter(`${convs[0].name}.weight`)
    const [count, inChannels, kh, kw] = weight.shape
    // Each filter's first input channel: for grey images the whole filter, as the tutorial draws them.
    const firstChannel = new Float32Array(count * kh * kw)
    for (let f = 0; f < count; f++) firstChannel.set(weight.values.subarray(f * inChannels * kh * kw, f * inChannels * kh * kw + kh * kw), f * kh * kw)
    filters = await greyPng(tileGrid(firstChannel, count, kh, kw, 12, count))
  }
  const cam = convs.length > 0 ? model.gradCam(image, [target]) : null
  const camPng = cam ? await camOverlayPng(display, channels, height, width, cam.values, cam.shape[1], cam.shape[2]) : null
  return { predicted: labels[0], probabilities, camClass: target, filters, layers, cam: camPng }
}
