// What this process runs on: the libtorch version and the CUDA devices it can see.
import { call, native, type RuntimeInfo } from './native'

export type { RuntimeInfo }

/** The version of the libtorch the addon is running on, e.g. "2.11.0+cu130". */
export function torchVersion(): string {
  return call(() => native().torchVersionString())
}

export function runtimeInfo(): RuntimeInfo {
  return call(() => native().runtimeInfo())
}

export function setNumThreads(threads: number): void {
  call(() => native().setNumThreads(threads))
}

export const cuda = {
  isAvailable(): boolean {
    return runtimeInfo().cudaAvailable
  },
  deviceCount(): number {
    return runtimeInfo().cudaDeviceCount
  },
}

/** What the process holds natively (for leak checks): the C heap in use, where CPU tensors
 *  live, and the models and datasets not yet disposed or collected. */
export function nativeMemory(): { heapBytes: number; liveObjects: number } {
  return call(() => native().nativeMemory())
}
