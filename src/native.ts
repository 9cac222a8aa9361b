// The only module that touches the generated binding. It loads the addon once, with an error
// that says how to fix a missing libtorch, and converts native errors into typed ones.
import { join } from 'node:path'
import type * as Binding from '../binding'
import { fromNative, LibtorchLoadError } from './errors'

export type NativeModel = Binding.NativeModel
export type NativeDataset = Binding.NativeDataset
export type NativeEvaluation = Binding.Evaluation
export type RuntimeInfo = Binding.RuntimeInfo
export type TensorData = Binding.TensorData

let loaded: typeof Binding | undefined

const FIX = [
  'convtorch needs libtorch 2.11.0 (PyTorch 2.11.0).',
  'In a clone of convtorch run `npm run setup:torch` (it installs torch into .torch/venv) and then `npm run build`;',
  'or point LIBTORCH at a libtorch 2.11.0 directory and rebuild.',
].join(' ')

export function native(): typeof Binding {
  if (loaded) return loaded
  const path = join(__dirname, '..', '..', 'binding.js')
  try {
    loaded = require(path) as typeof Binding
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    throw new LibtorchLoadError(`could not load the convtorch addon through ${path}: ${detail}. ${FIX}`, { cause: error })
  }
  return loaded
}

/** Runs a native call, rethrowing its error as a typed ConvtorchError. */
export function call<T>(body: () => T): T {
  try {
    return body()
  } catch (error) {
    throw fromNative(error)
  }
}

/** Awaits a native AsyncTask, rejecting with a typed ConvtorchError. */
export async function callAsync<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body()
  } catch (error) {
    throw fromNative(error)
  }
}
