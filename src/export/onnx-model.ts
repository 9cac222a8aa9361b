// An ONNX file for a convtorch model: the graph of onnx-graph.ts in a ModelProto, encoded by
// protobufjs from ONNX's own schema (the onnx-proto package), with what a user of the file needs
// to know in its metadata: the class names, the input it takes, the normalisation it applies.
import { onnx } from 'onnx-proto'
import type { Normalisation } from '../data/dataset'
import { InternalError } from '../errors'
import { checkPreprocess } from '../image/preprocess'
import type { ModelSpec } from '../model/spec'
import { onnxGraph, type GraphSource } from './onnx-graph'

const VERSION: string = require('../../../package.json').version

/** Opset 17 (ONNX 1.12): every operator used here has had its current form since opset 13. */
export const ONNX_OPSET = 17
/** IR version 8 is the one that ONNX 1.12 and 1.13 (opsets 17 and 18) write. */
export const ONNX_IR_VERSION = 8

export interface OnnxSource extends GraphSource {
  classNames: string[] | null
}

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

/** The ModelProto message, before encoding. */
export function onnxModelProto(source: OnnxSource): onnx.IModelProto {
  const metadata = onnxMetadata(source.spec, source.normalise, source.classNames)
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'convtorch',
    producerVersion: VERSION,
    docString: 'A convtorch model. Input "input": float32 [batch, C, H, W] pixels in [0, 1]. Outputs "logits" and "probabilities" (softmax): [batch, classes]. See metadata_props.',
    graph: onnxGraph(source),
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  }
}

/** The bytes of a .onnx file for `source`. */
export function encodeOnnx(source: OnnxSource): Uint8Array {
  const proto = onnxModelProto(source)
  const error = onnx.ModelProto.verify(proto)
  // verify() checks field types against the schema: a failure is a bug here, not the user's.
  if (error) throw new InternalError(`ONNX export built an invalid ModelProto: ${error}`)
  return onnx.ModelProto.encode(proto).finish()
}
