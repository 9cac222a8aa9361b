// An ONNX file for a convtorch model: the graph of onnx-graph.ts in a ModelProto, encoded by
// protobufjs from ONNX's own schema (the onnx-proto package), with what a user of the file needs
// to know in its metadata: the class names, the input it takes, the normalisation it applies.
import { onnx } from 'onnx-proto'
import { InternalError } from '../errors'
import { onnxGraph, type GraphSource } from './onnx-graph'
import { ONNX_IR_VERSION, ONNX_OPSET, onnxMetadata } from './onnx-format'

const VERSION: string = require('../../../package.json').version

export interface OnnxSource extends GraphSource {
  classNames: string[] | null
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
