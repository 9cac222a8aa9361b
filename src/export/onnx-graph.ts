// The ONNX graph of a convtorch model: one standard operator (opset 17) per layer, the weights
// as initializers under their PyTorch names, the input normalisation as two nodes in front, and
// softmax probabilities beside the logits. The batch dimension is symbolic ('batch').
import type { onnx } from 'onnx-proto'
import { perChannel, type Normalisation } from '../data/dataset'
import { InternalError } from '../errors'
import { inferShapes, layerWindow, type Shape } from '../model/shapes'
import type { LayerSpec, ModelSpec } from '../model/spec'
import { floatAttribute, floatTensor, floatValue, intAttribute, intsAttribute } from './onnx-tensor'

export const ONNX_INPUT = 'input'
export const ONNX_LOGITS = 'logits'
export const ONNX_PROBABILITIES = 'probabilities'
export const BATCH_DIMENSION = 'batch'

export interface GraphSource {
  spec: ModelSpec
  /** A parameter's values by its PyTorch name ("conv_1.weight"), row-major. */
  parameter(name: string): { shape: number[]; values: Float32Array }
  normalise: Normalisation | null
}

interface LayerContext {
  layer: LayerSpec
  index: number
  /** The layer's name in parameter names: its own, else its index. */
  name: string
  input: Shape
  output: Shape
  from: string
  to: string
}

function node(opType: string, inputs: string[], output: string, name: string, attribute: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, input: inputs, output: [output], name, attribute }
}

/** What a layer becomes: its node and the initializers it reads. */
function layerNode(context: LayerContext, source: GraphSource): { node: onnx.INodeProto; initializers: onnx.ITensorProto[] } {
  const { layer, index, name, input, output, from, to } = context
  const nodeName = `layers.${index}`
  const weights = (dims: number[]) => {
    const tensors = [floatTensor(`${name}.weight`, dims, checked(source, `${name}.weight`, dims)), floatTensor(`${name}.bias`, [dims[0]], checked(source, `${name}.bias`, [dims[0]]))]
    return { tensors, names: tensors.map((t) => t.name!) }
  }
  switch (layer.type) {
    case 'conv2d': {
      const { kernel, stride, padding } = layerWindow(index, layer)
      const { tensors, names } = weights([output[0], input[0], kernel[0], kernel[1]])
      // ONNX pads are [top, left, bottom, right]; convtorch pads both sides alike.
      const attributes = [intsAttribute('kernel_shape', kernel), intsAttribute('strides', stride), intsAttribute('pads', [...padding, ...padding]), intsAttribute('dilations', [1, 1]), intAttribute('group', 1)]
      return { node: node('Conv', [from, ...names], to, nodeName, attributes), initializers: tensors }
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const { kernel, stride, padding } = layerWindow(index, layer)
      const attributes = [intsAttribute('kernel_shape', kernel), intsAttribute('strides', stride), intsAttribute('pads', [...padding, ...padding]), intAttribute('ceil_mode', 0)]
      // Average pooling divides by the whole window, padding included, as convtorch's (and
      // PyTorch's default) count_include_pad=True does; ONNX's default excludes it.
      if (layer.type === 'avgPool2d') attributes.push(intAttribute('count_include_pad', 1))
      return { node: node(layer.type === 'maxPool2d' ? 'MaxPool' : 'AveragePool', [from], to, nodeName, attributes), initializers: [] }
    }
    case 'linear': {
      const { tensors, names } = weights([output[0], input[0]])
      // Gemm computes from x W^T + b with transB, i.e. PyTorch's nn.Linear on its [out, in] weight.
      return { node: node('Gemm', [from, ...names], to, nodeName, [intAttribute('transB', 1)]), initializers: tensors }
    }
    case 'relu':
      return { node: node('Relu', [from], to, nodeName), initializers: [] }
    case 'leakyRelu':
      return { node: node('LeakyRelu', [from], to, nodeName, [floatAttribute('alpha', layer.slope ?? 0.01)]), initializers: [] }
    case 'sigmoid':
      return { node: node('Sigmoid', [from], to, nodeName), initializers: [] }
    case 'tanh':
      return { node: node('Tanh', [from], to, nodeName), initializers: [] }
    case 'dropout':
      // An exported model is for inference, where dropout passes its input through.
      return { node: node('Identity', [from], to, nodeName), initializers: [] }
    case 'flatten':
      return { node: node('Flatten', [from], to, nodeName, [intAttribute('axis', 1)]), initializers: [] }
  }
}

function checked(source: GraphSource, name: string, dims: number[]): Float32Array {
  const { shape, values } = source.parameter(name)
  if (shape.length !== dims.length || shape.some((d, i) => d !== dims[i])) {
    throw new InternalError(`ONNX export: parameter ${name} has shape ${shape.join('x')}, the spec gives ${dims.join('x')}`)
  }
  return values
}

/** Sub and Div on [1, C, 1, 1] constants: the graph takes pixels scaled to [0, 1], as predict's input. */
function normalisationNodes(normalise: Normalisation, channels: number): { nodes: onnx.INodeProto[]; initializers: onnx.ITensorProto[]; output: string } {
  const { mean, std } = perChannel(normalise, channels)
  const dims = [1, channels, 1, 1]
  return {
    nodes: [node('Sub', [ONNX_INPUT, 'normalise.mean'], 'normalise.centred', 'normalise.sub'), node('Div', ['normalise.centred', 'normalise.std'], 'normalised', 'normalise.div')],
    initializers: [floatTensor('normalise.mean', dims, mean), floatTensor('normalise.std', dims, std)],
    output: 'normalised',
  }
}

export function onnxGraph(source: GraphSource, name = 'convtorch'): onnx.IGraphProto {
  const { spec } = source
  const shapes = inferShapes(spec)
  const nodes: onnx.INodeProto[] = []
  const initializers: onnx.ITensorProto[] = []
  const valueInfo: onnx.IValueInfoProto[] = []
  let from = ONNX_INPUT
  if (source.normalise) {
    const normalisation = normalisationNodes(source.normalise, spec.input[0])
    nodes.push(...normalisation.nodes)
    initializers.push(...normalisation.initializers)
    from = normalisation.output
  }
  let input: Shape = spec.input
  spec.layers.forEach((layer, index) => {
    const { output, name: layerName } = shapes[index]
    const last = index === spec.layers.length - 1
    const to = last ? ONNX_LOGITS : `layers.${index}`
    const built = layerNode({ layer, index, name: layerName, input, output, from, to }, source)
    nodes.push({ ...built.node, docString: JSON.stringify(layer) })
    initializers.push(...built.initializers)
    if (!last) valueInfo.push(floatValue(to, [BATCH_DIMENSION, ...output]))
    from = to
    input = output
  })
  nodes.push(node('Softmax', [ONNX_LOGITS], ONNX_PROBABILITIES, 'softmax', [intAttribute('axis', 1)]))
  const [c, h, w] = spec.input
  return {
    name,
    node: nodes,
    initializer: initializers,
    input: [floatValue(ONNX_INPUT, [BATCH_DIMENSION, c, h, w], 'pixels scaled to [0, 1] (byte / 255), NCHW; the normalisation is applied in the graph')],
    output: [floatValue(ONNX_LOGITS, [BATCH_DIMENSION, spec.classes], 'class scores'), floatValue(ONNX_PROBABILITIES, [BATCH_DIMENSION, spec.classes], 'softmax of the logits')],
    valueInfo,
  }
}
