// Typed errors: every error convtorch throws is a ConvtorchError with a stable `code`.
// Native errors arrive as "CODE: message" and are turned into the matching class here.

import { describeValue } from './describe-value'

export class ConvtorchError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** An argument outside what is accepted; the message names the field, the value, the expectation. */
export class InvalidArgumentError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_INVALID_ARGUMENT', message, options)
  }
}

/** A model spec that cannot be built (a layer, its index and the shapes are named). */
export class ModelSpecError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_INVALID_SPEC', message, options)
  }
}

export class DeviceUnavailableError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_DEVICE_UNAVAILABLE', message, options)
  }
}

/** A second concurrent call on a model that is busy. */
export class BusyError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_BUSY', message, options)
  }
}

/** A call on a model or dataset after its dispose(). */
export class DisposedError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_DISPOSED', message, options)
  }
}

export class CheckpointError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_CHECKPOINT', message, options)
  }
}

/** A malformed or inconsistent dataset (IDX files, arrays, downloads). */
export class DatasetError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_DATASET', message, options)
  }
}

/** An image file that cannot be listed or decoded; the message names the file and the reason. */
export class ImageError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_IMAGE', message, options)
  }
}

/** libtorch itself failed (a C++ exception caught at the boundary). The message is
 *  libtorch's own; its C++ source location and stack frames are in `detail`. */
export class TorchError extends ConvtorchError {
  readonly detail: string | null
  constructor(message: string, options?: { cause?: unknown; detail?: string | null }) {
    super('CONVTORCH_TORCH', message, options)
    this.detail = options?.detail ?? null
  }
}

/** A device (or host) allocation failed: libtorch's OutOfMemoryError. The call that failed
 *  changed nothing it could not undo; the process, the model and its data remain usable, so a
 *  caller can retry with a smaller batch. libtorch's message names what it tried to allocate. */
export class OutOfMemoryError extends ConvtorchError {
  readonly detail: string | null
  constructor(message: string, options?: { cause?: unknown; detail?: string | null }) {
    super('CONVTORCH_OUT_OF_MEMORY', message, options)
    this.detail = options?.detail ?? null
  }
}

/** A data-parallel run failed: the rendezvous (an unreachable store, a port in use), a rank
 *  that died or hung past the timeout, or a collective. The message names the rank. */
export class DistributedError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_DISTRIBUTED', message, options)
  }
}

/** The native addon or libtorch could not be loaded. */
export class LibtorchLoadError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_LIBTORCH_LOAD', message, options)
  }
}

export class InternalError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_INTERNAL', message, options)
  }
}

/** The class of each code, for errors that cross from the addon. */
export const ERROR_CLASSES: Record<string, new (message: string, options?: { cause?: unknown }) => ConvtorchError> = {
  CONVTORCH_INVALID_ARGUMENT: InvalidArgumentError,
  CONVTORCH_INVALID_SPEC: ModelSpecError,
  CONVTORCH_DEVICE_UNAVAILABLE: DeviceUnavailableError,
  CONVTORCH_BUSY: BusyError,
  CONVTORCH_DISPOSED: DisposedError,
  CONVTORCH_CHECKPOINT: CheckpointError,
  CONVTORCH_DATASET: DatasetError,
  CONVTORCH_IMAGE: ImageError,
  CONVTORCH_LIBTORCH_LOAD: LibtorchLoadError,
  CONVTORCH_TORCH: TorchError,
  CONVTORCH_DISTRIBUTED: DistributedError,
  CONVTORCH_OUT_OF_MEMORY: OutOfMemoryError,
  CONVTORCH_INTERNAL: InternalError,
}

const NAPI_ARGUMENT_CODES = new Set(['InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected'])

/** libtorch's message without the C++ location and frames that follow it ("Exception raised
 *  from ... frame #0: ..."), which say nothing to a user but belong in a bug report. */
export function splitTorchMessage(text: string): { message: string; detail: string | null } {
  const at = text.search(/\n?Exception raised from |\nframe #0: /)
  if (at < 0) return { message: text.trim(), detail: null }
  return { message: text.slice(0, at).trim(), detail: text.slice(at).trim() }
}

/** Turns an error thrown by the addon into its typed class; other errors pass through. */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ConvtorchError) return error
  const match = /^(CONVTORCH_[A-Z_]+): ([\s\S]*)$/.exec(error.message)
  if (!match) {
    // napi-rs refused an argument of the wrong JS type before any of our code ran.
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && NAPI_ARGUMENT_CODES.has(code)) return new InvalidArgumentError(`an argument has the wrong type: ${error.message}`, { cause: error })
    return error
  }
  if (match[1] === 'CONVTORCH_TORCH' || match[1] === 'CONVTORCH_OUT_OF_MEMORY') {
    const { message, detail } = splitTorchMessage(match[2])
    const Class = match[1] === 'CONVTORCH_TORCH' ? TorchError : OutOfMemoryError
    return new Class(message, { cause: error, detail })
  }
  const Class = ERROR_CLASSES[match[1]] ?? InternalError
  return new Class(match[2], { cause: error })
}

/** "train(): batchSize must be a positive integer, got -3" */
export function invalidArgument(context: string, field: string, value: unknown, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(`${context}: ${field} must be ${expected}, got ${describeValue(value)}`)
}
