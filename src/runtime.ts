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
  /** Free and total bytes of CUDA device `device` (cudaMemGetInfo). With `releaseCached`
   *  (default true) the caching allocator first returns the blocks no tensor holds, so memory
   *  of disposed models and datasets shows as free. */
  memory(device = 0, releaseCached = true): { freeBytes: number; totalBytes: number } {
    return call(() => native().cudaMemory(device, releaseCached))
  },
  /** torch.backends.cudnn's process-wide flags: `benchmark` (autotune convolution algorithms;
   *  train's cudaGraph turns it on), `deterministic` (only reproducible algorithms) and
   *  `allowTf32` (convolutions in TF32 on Ampere and later; PyTorch's default: true). Sets the
   *  ones given; returns all three as they were, so a caller can restore them. */
  setCudnn(flags: { benchmark?: boolean; deterministic?: boolean; allowTf32?: boolean }): { benchmark: boolean; deterministic: boolean; allowTf32: boolean } {
    const previous = call(() => native().setCudnnFlags(flags))
    return { benchmark: previous.benchmark === true, deterministic: previous.deterministic === true, allowTf32: previous.allowTf32 === true }
  },
}

/** What the process holds natively (for leak checks): the C heap in use, where CPU tensors
 *  live, and the models and datasets not yet disposed or collected. */
export function nativeMemory(): { heapBytes: number; liveObjects: number } {
  return call(() => native().nativeMemory())
}
