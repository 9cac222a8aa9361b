// A labelled image dataset in host memory, validated once; `toDevice` uploads it.
import { DatasetError, invalidArgument } from '../errors'
import { call, native } from '../native'
import { DeviceDataset } from './device-dataset'
import { readIdxFile } from './idx'

export interface DatasetArrays {
  /** Pixels, [count, channels, height, width] row-major: bytes (scaled by 1/255) or floats (as is). */
  images: Uint8Array | Float32Array
  labels: ArrayLike<number>
  /** [channels, height, width] */
  shape: [number, number, number]
  classes: number
}

/** (x - mean) / std after scaling to [0, 1]: one number for every channel, or one per channel. */
export interface Normalisation {
  mean: number | number[]
  std: number | number[]
}

/** Planar examples [n, c, h, w] scaled to [0, 1], prepared as a model with `normalisation` was
 *  trained (a copy; null leaves the values as they are). */
export function normalisedCopy(images: Float32Array, shape: readonly [number, number, number], normalisation: Normalisation | null): Float32Array {
  const out = images.slice()
  if (!normalisation) return out
  const [channels, height, width] = shape
  const plane = height * width
  const { mean, std } = perChannel(normalisation, channels)
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / plane) % channels
    out[i] = (out[i] - mean[c]) / std[c]
  }
  return out
}

/** The normalisation's values for each of `channels` (one value stands for all). */
export function perChannel(normalisation: Normalisation, channels: number): { mean: number[]; std: number[] } {
  const expand = (values: number | number[]) => (Array.isArray(values) ? (values.length === 1 ? Array(channels).fill(values[0]) : values) : Array(channels).fill(values))
  return { mean: expand(normalisation.mean), std: expand(normalisation.std) }
}

export class Dataset {
  readonly images: Uint8Array | Float32Array
  readonly labels: Int32Array
  readonly shape: [number, number, number]
  readonly classes: number
  readonly count: number

  private constructor(images: Uint8Array | Float32Array, labels: Int32Array, shape: [number, number, number], classes: number) {
    this.images = images
    this.labels = labels
    this.shape = shape
    this.classes = classes
    this.count = labels.length
  }

  /** Checks sizes and labels and keeps the arrays (no copy for Int32Array labels). */
  static fromArrays(arrays: DatasetArrays): Dataset {
    const context = 'Dataset.fromArrays()'
    const { images, shape, classes } = arrays
    if (!(images instanceof Uint8Array) && !(images instanceof Float32Array)) throw invalidArgument(context, 'images', images, 'a Uint8Array or a Float32Array')
    if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw invalidArgument(context, 'shape', shape, '[channels, height, width] of positive integers')
    }
    if (!Number.isInteger(classes) || classes < 2) throw invalidArgument(context, 'classes', classes, 'an integer >= 2')
    if (arrays.labels === null || typeof arrays.labels !== 'object' || typeof arrays.labels.length !== 'number') {
      throw invalidArgument(context, 'labels', arrays.labels, 'an array of class indices')
    }
    if (!(arrays.labels instanceof Int32Array)) {
      // Int32Array.from would coerce silently: 1.5 -> 1, NaN -> 0, '3' -> 3.
      const source = arrays.labels
      for (let i = 0; i < source.length; i++) {
        if (!Number.isInteger(source[i])) throw invalidArgument(context, `labels[${i}]`, source[i], `a class index in [0, ${classes})`)
      }
    }
    const labels = arrays.labels instanceof Int32Array ? arrays.labels : Int32Array.from(arrays.labels)
    if (labels.length === 0) throw invalidArgument(context, 'labels', '0 labels', 'at least one example')
    const perExample = shape[0] * shape[1] * shape[2]
    if (images.length !== labels.length * perExample) {
      throw invalidArgument(context, 'images', `${images.length} values`, `${labels.length} labels x ${shape.join('x')} = ${labels.length * perExample} values`)
    }
    const bad = labels.findIndex((l) => !(l >= 0 && l < classes))
    if (bad >= 0) throw invalidArgument(context, `labels[${bad}]`, labels[bad], `a class index in [0, ${classes})`)
    return new Dataset(images, labels, [...shape], classes)
  }

  /** An images file ([count, height, width] or [count, channels, height, width]) and a labels file. */
  static async fromIdx(imagesPath: string, labelsPath: string, classes = 10): Promise<Dataset> {
    const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)])
    if (images.dims.length !== 3 && images.dims.length !== 4) {
      throw new DatasetError(`${imagesPath}: images must have 3 or 4 dimensions, got ${images.dims.join('x')}`)
    }
    if (labels.dims.length !== 1) throw new DatasetError(`${labelsPath}: labels must have 1 dimension, got ${labels.dims.join('x')}`)
    if (images.dims[0] !== labels.dims[0]) {
      throw new DatasetError(`${imagesPath} holds ${images.dims[0]} images but ${labelsPath} holds ${labels.dims[0]} labels`)
    }
    const bad = labels.data.findIndex((l) => l >= classes)
    if (bad >= 0) throw new DatasetError(`${labelsPath}: label ${bad} is ${labels.data[bad]}, expected a class index below ${classes}`)
    const shape: [number, number, number] = images.dims.length === 3 ? [1, images.dims[1], images.dims[2]] : [images.dims[1], images.dims[2], images.dims[3]]
    return new Dataset(images.data, Int32Array.from(labels.data), shape, classes)
  }

  /** Examples [start, start + count), sharing memory with this dataset. */
  slice(start: number, count: number): Dataset {
    if (!Number.isInteger(start) || start < 0 || start >= this.count) throw invalidArgument('Dataset.slice()', 'start', start, `an integer in [0, ${this.count})`)
    if (!Number.isInteger(count) || count < 1) throw invalidArgument('Dataset.slice()', 'count', count, 'a positive integer')
    const end = Math.min(this.count, start + count)
    const per = this.shape[0] * this.shape[1] * this.shape[2]
    return new Dataset(this.images.subarray(start * per, end * per), this.labels.subarray(start, end), this.shape, this.classes)
  }

  /** The examples at `indices`, in that order, copied (repeats allowed). */
  gather(indices: ArrayLike<number>): Dataset {
    const context = 'Dataset.gather()'
    if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') throw invalidArgument(context, 'indices', indices, 'an array of example indices')
    if (indices.length === 0) throw invalidArgument(context, 'indices', '0 indices', 'at least one example index')
    const per = this.shape[0] * this.shape[1] * this.shape[2]
    const images = this.images instanceof Uint8Array ? new Uint8Array(indices.length * per) : new Float32Array(indices.length * per)
    const labels = new Int32Array(indices.length)
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]
      if (!Number.isInteger(index) || index < 0 || index >= this.count) throw invalidArgument(context, `indices[${i}]`, index, `an integer in [0, ${this.count})`)
      images.set(this.images.subarray(index * per, (index + 1) * per), i * per)
      labels[i] = this.labels[index]
    }
    return new Dataset(images, labels, this.shape, this.classes)
  }

  /** Uploads to `device` once; pixels are scaled like ToTensor (bytes / 255), then normalised. */
  toDevice(device = 'cpu', normalisation?: Normalisation): DeviceDataset {
    const asList = (values: number | number[] | undefined) => (values === undefined ? undefined : [values].flat())
    const layout = { count: this.count, shape: this.shape, classes: this.classes, device, mean: asList(normalisation?.mean), std: asList(normalisation?.std) }
    const images = this.images
    const handle = call(() =>
      images instanceof Uint8Array ? native().NativeDataset.fromBytes(images, this.labels, layout) : native().NativeDataset.fromFloats(images, this.labels, layout),
    )
    return new DeviceDataset(handle)
  }
}
