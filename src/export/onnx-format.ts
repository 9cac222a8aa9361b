// What an exported ONNX file is, apart from its protobuf encoding: the opset and IR version, and
// the metadata a user of the file reads (class names, input, normalisation). Kept apart from
// onnx-model.ts so the public types do not reach onnx-proto's declarations.
import type { Normalisation } from '../data/dataset'
import { checkPreprocess } from '../image/preprocess'
import type { ModelSpec } from '../model/spec'

/** Opset 17 (ONNX 1.12): every operator used here has had its current form since opset 13. */
export const ONNX_OPSET = 17
/** IR version 8 is the one that ONNX 1.12 and 1.13 (opsets 17 and 18) write. */
export const ONNX_IR_VERSION = 8

/** The metadata_props of an exported file; each value is a string (JSON where structured). */
export interface OnnxMetadata {
  /** JSON array: a name per class index; the indices themselves where the model has no names. */
  classNames: string
  /** What the input tensor holds. */
  input: string
  /** JSON {mean, std} applied inside the graph, or "null". */
  normalisation: string
  /** How predict prepares an image file for this model: "mnist" or "resize". */
  preprocess: string
  /** JSON of the model spec. */
  spec: string
}

export function onnxMetadata(spec: ModelSpec, normalise: Normalisation | null, classNames: string[] | null): OnnxMetadata {
  const [c, h, w] = spec.input
  return {
    classNames: JSON.stringify(classNames ?? Array.from({ length: spec.classes }, (_, i) => String(i))),
    input: `float32 [batch, ${c}, ${h}, ${w}]: pixels scaled to [0, 1] (byte / 255); ${normalise ? 'the normalisation is applied inside the graph' : 'no normalisation'}`,
    normalisation: JSON.stringify(normalise),
    preprocess: checkPreprocess('exportOnnx()', undefined, spec.input),
    spec: JSON.stringify(spec),
  }
}
