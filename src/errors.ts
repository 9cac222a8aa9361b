// Typed errors: every error convtorch throws is a ConvtorchError with a stable `code`.
// Native errors arrive as "CODE: message" and are turned into the matching class here.

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

/** libtorch itself failed (a C++ exception caught at the boundary). */
export class TorchError extends ConvtorchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONVTORCH_TORCH', message, options)
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

const byCode: Record<string, new (message: string, options?: { cause?: unknown }) => ConvtorchError> = {
  CONVTORCH_INVALID_ARGUMENT: InvalidArgumentError,
  CONVTORCH_INVALID_SPEC: ModelSpecError,
  CONVTORCH_DEVICE_UNAVAILABLE: DeviceUnavailableError,
  CONVTORCH_BUSY: BusyError,
  CONVTORCH_DISPOSED: DisposedError,
  CONVTORCH_CHECKPOINT: CheckpointError,
  CONVTORCH_IMAGE: ImageError,
  CONVTORCH_TORCH: TorchError,
  CONVTORCH_INTERNAL: InternalError,
}

/** Turns an error thrown by the addon into its typed class; other errors pass through. */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ConvtorchError) return error
  const match = /^(CONVTORCH_[A-Z_]+): ([\s\S]*)$/.exec(error.message)
  if (!match) return error
  const Class = byCode[match[1]] ?? InternalError
  return new Class(match[2], { cause: error })
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** "train(): batchSize must be a positive integer, got -3" */
export function invalidArgument(context: string, field: string, value: unknown, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(`${context}: ${field} must be ${expected}, got ${describe(value)}`)
}
