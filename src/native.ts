// The only module that touches the generated binding. It loads the addon once, with an error
// that says how to fix a missing libtorch, and converts native errors into typed ones.
import { join } from 'node:path'
import type * as Binding from '../binding'
import { ConvtorchError, fromNative, LibtorchLoadError } from './errors'
import { prepareLibtorch, type LibtorchChoice } from './libtorch'

export type NativeModel = Binding.NativeModel
export type NativeDataset = Binding.NativeDataset
export type NativeEvaluation = Binding.Evaluation
export type RuntimeInfo = Binding.RuntimeInfo
export type TensorData = Binding.TensorData
export type RngState = Binding.RngState

let loaded: typeof Binding | undefined
let chosen: LibtorchChoice | undefined

/** The libtorch the addon was loaded against (after the first native call). */
export function libtorchChoice(): LibtorchChoice | undefined {
  return chosen
}

export function native(): typeof Binding {
  if (loaded) return loaded
  const { choice, addon } = prepareLibtorch()
  // The generated loader takes an explicit path when the addon had to be copied elsewhere.
  if (!addon.startsWith(join(__dirname, '..', '..'))) process.env.NAPI_RS_NATIVE_LIBRARY_PATH = addon
  const path = join(__dirname, '..', '..', 'binding.js')
  try {
    loaded = require(path) as typeof Binding
  } catch (error) {
    if (error instanceof ConvtorchError) throw error
    const detail = error instanceof Error ? error.message : String(error)
    throw new LibtorchLoadError(`could not load the convtorch addon ${addon} against libtorch ${choice.version} in ${choice.libDir} (${choice.source}): ${detail}`, { cause: error })
  }
  chosen = choice
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
