// The Python source of a torch.nn.Module equal to a convtorch model spec, whose state_dict keys
// are convtorch's parameter names, so `load_state_dict(weights, strict=True)` takes its weights.
import { invalidArgument } from '../errors'
import { formatShape, inferShapes, type Shape } from '../model/shapes'
import type { LayerSpec, ModelSpec, Padding, Pair } from '../model/spec'

export interface PytorchSourceOptions {
  /** The generated class; default 'ConvtorchNet'. */
  className?: string
}

const CONTEXT = 'pytorchSource()'

function pair(value: Pair): [number, number] {
  return typeof value === 'number' ? [value, value] : value
}

function tuple(values: readonly number[]): string {
  return `(${values.join(', ')})`
}

/** Python float literal: JS prints 0.1 and 1e-7 as Python reads them; integers get a '.0'. */
function float(value: number): string {
  const text = String(value)
  return /[.e]/.test(text) ? text : `${text}.0`
}

// The same numbers as convtorch's shape inference (src/model/shapes.ts, crates/core/src/shape.rs);
// 'same' is only accepted there for odd kernels at stride 1, so it is always symmetric.
function convPadding(padding: Padding | undefined, kernel: [number, number]): [number, number] {
  if (padding === undefined || padding === 'valid') return [0, 0]
  if (padding === 'full') return [kernel[0] - 1, kernel[1] - 1]
  if (padding === 'same') return [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2]
  return pair(padding)
}

function moduleFor(layer: LayerSpec, input: Shape): string {
  switch (layer.type) {
    case 'conv2d': {
      const kernel = pair(layer.kernel)
      const stride = pair(layer.stride ?? 1)
      return `nn.Conv2d(${input[0]}, ${layer.filters}, kernel_size=${tuple(kernel)}, stride=${tuple(stride)}, padding=${tuple(convPadding(layer.padding, kernel))})`
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const kernel = pair(layer.kernel)
      const window = `kernel_size=${tuple(kernel)}, stride=${tuple(pair(layer.stride ?? layer.kernel))}, padding=${tuple(pair(layer.padding ?? 0))}, ceil_mode=False`
      // count_include_pad=True is PyTorch's default and what convtorch's avg_pool2d passes.
      return layer.type === 'maxPool2d' ? `nn.MaxPool2d(${window})` : `nn.AvgPool2d(${window}, count_include_pad=True)`
    }
    case 'relu':
      return 'nn.ReLU()'
    case 'leakyRelu':
      return `nn.LeakyReLU(negative_slope=${float(layer.slope ?? 0.01)})`
    case 'sigmoid':
      return 'nn.Sigmoid()'
    case 'tanh':
      return 'nn.Tanh()'
    case 'dropout':
      return `nn.Dropout(p=${float(layer.p)})`
    case 'flatten':
      return 'nn.Flatten(start_dim=1)'
    case 'linear':
      return `nn.Linear(${input[0]}, ${layer.units})`
  }
}

/** Module names: convtorch's for layers with parameters; parameterless ones keep theirs unless taken. */
function moduleNames(spec: ModelSpec, parameterised: boolean[]): string[] {
  const given = spec.layers.map((layer, index) => ('name' in layer && layer.name) || String(index))
  given.forEach((name, index) => {
    if (parameterised[index] && name.includes('.')) {
      throw invalidArgument(CONTEXT, `layers[${index}].name`, name, "a name without '.' (PyTorch reads '.' as a submodule path)")
    }
  })
  const taken = new Set(given.filter((_, index) => parameterised[index]))
  return given.map((name, index) => {
    if (parameterised[index]) return name
    // No state, so any unique name loads the same weights.
    let unique = name.includes('.') ? String(index) : name
    while (taken.has(unique)) unique = `_${unique}`
    taken.add(unique)
    return unique
  })
}

const READER = `# safetensors: 8-byte little-endian header length, a JSON header, then raw little-endian data.
_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def read_safetensors(path):
    """The tensors of a .safetensors file by name, with torch alone (no safetensors package)."""
    if sys.byteorder != "little":
        raise RuntimeError("read_safetensors reads little-endian data as native: a big-endian machine needs byte swaps")
    with open(path, "rb") as file:
        data = file.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file ({len(data)} bytes)")
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_length])
    start = 8 + header_length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        # bytearray: torch.frombuffer wants a writable buffer.
        raw = bytearray(data[start + begin:start + end])
        flat = torch.frombuffer(raw, dtype=_DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=_DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"])
    return tensors`

/** Python source defining `className` (an nn.Sequential), `read_safetensors(path)` and `load(weights_path)`. */
export function pytorchSource(spec: ModelSpec, options: PytorchSourceOptions = {}): string {
  const className = options.className ?? 'ConvtorchNet'
  if (typeof className !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(className)) {
    throw invalidArgument(CONTEXT, 'className', className, 'a Python identifier')
  }
  const shapes = inferShapes(spec)
  const inputs: Shape[] = [spec.input, ...shapes.slice(0, -1).map((s) => s.output)]
  const names = moduleNames(spec, shapes.map((s) => s.parameters > 0))
  const layers = spec.layers.map((layer, index) => {
    const shape = `${formatShape(inputs[index])} -> ${formatShape(shapes[index].output)}`
    return `            (${JSON.stringify(names[index])}, ${moduleFor(layer, inputs[index])}),  # ${shape}`
  })
  // One layer a line: the header reads as the spec's JSON, and is the spec's JSON.
  const specLines = [`#   {"input": ${JSON.stringify(spec.input)}, "classes": ${spec.classes}, "layers": [`, ...spec.layers.map((layer, i) => `#     ${JSON.stringify(layer)}${i < spec.layers.length - 1 ? ',' : ''}`), '#   ]}']
  return `# A torch.nn.Module for a convtorch model, generated by convtorch's pytorchSource().
# Its state_dict keys are convtorch's parameter names, so the weights.safetensors that
# Model.save() writes loads strictly:  model = load("weights.safetensors")
# The model spec:
${specLines.join('\n')}
import json
import struct
import sys
from collections import OrderedDict

import torch
from torch import nn

INPUT_SHAPE = ${tuple(spec.input)}
CLASSES = ${spec.classes}


class ${className}(nn.Sequential):
    """The spec's layers in order, named as convtorch names them: the layer's name, else its index."""

    def __init__(self):
        super().__init__(OrderedDict([
${layers.join('\n')}
        ]))


${READER}


def load(weights_path, device="cpu"):
    """A ${className} with the weights convtorch saved, in evaluation mode (dropout off)."""
    model = ${className}()
    model.load_state_dict(read_safetensors(weights_path), strict=True)
    return model.to(device).eval()
`
}
