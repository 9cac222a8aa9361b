// The pieces of an ONNX graph that are plain data: float tensors, typed graph inputs and
// outputs, node attributes, in onnx-proto's message shapes (ONNX's own onnx.proto).
import { onnx } from 'onnx-proto'
import { InternalError } from '../errors'

const { AttributeType } = onnx.AttributeProto

/** A float32 initializer; raw_data holds the values little-endian, as onnx.proto prescribes. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): onnx.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1)
  if (values.length !== count) throw new InternalError(`ONNX tensor ${name}: ${values.length} values for dims ${dims.join('x')} (${count})`)
  const bytes = new Uint8Array(count * 4)
  const view = new DataView(bytes.buffer)
  // DataView with littleEndian=true: the same bytes on any host.
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, values[i], true)
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes }
}

/** A float32 graph input or output; a string dimension is symbolic (dynamic), e.g. 'batch'. */
export function floatValue(name: string, dims: ReadonlyArray<number | string>, docString?: string): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }))
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } }, ...(docString ? { docString } : {}) }
}

export function intsAttribute(name: string, ints: readonly number[]): onnx.IAttributeProto {
  return { name, type: AttributeType.INTS, ints: [...ints] }
}

export function intAttribute(name: string, i: number): onnx.IAttributeProto {
  return { name, type: AttributeType.INT, i }
}

export function floatAttribute(name: string, f: number): onnx.IAttributeProto {
  return { name, type: AttributeType.FLOAT, f }
}
