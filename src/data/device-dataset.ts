import { call, type NativeDataset } from '../native'

/** A dataset uploaded once to a device; training gathers its batches there by index. */
export class DeviceDataset {
  /** @internal */
  readonly handle: NativeDataset

  constructor(handle: NativeDataset) {
    this.handle = handle
  }

  get count(): number {
    return this.handle.count
  }

  get device(): string {
    return this.handle.device
  }

  /** Frees the tensors (device memory included) now; later use throws DisposedError. */
  dispose(): void {
    call(() => this.handle.dispose())
  }
}
