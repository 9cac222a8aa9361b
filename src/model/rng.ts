// A model's own generator states (dropout's masks), as base64 in training checkpoints: a
// resumed run draws the masks an uninterrupted one would have drawn.
import type { RngSnapshot } from '../checkpoint/contents'
import { CheckpointError } from '../errors'
import type { NativeModel } from '../native'

export function rngSnapshot(handle: NativeModel): RngSnapshot {
  const { cpu, device } = handle.rngState()
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
  return { cpu: base64(cpu), device: device ? { name: handle.device, state: base64(device) } : null }
}

export function restoreRng(handle: NativeModel, snapshot: RngSnapshot, file: string): void {
  const bytes = (state: string) => new Uint8Array(Buffer.from(state, 'base64'))
  // A run resumed on another device keeps that device's fresh generator.
  const device = snapshot.device && snapshot.device.name === handle.device ? bytes(snapshot.device.state) : undefined
  try {
    handle.setRngState(bytes(snapshot.cpu), device)
  } catch (error) {
    throw new CheckpointError(`${file}: rng: the generator state cannot be restored (${(error as Error).message})`, { cause: error })
  }
}
