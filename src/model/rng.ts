// libtorch's default generators, saved and restored as bytes, so that a resumed run draws the
// dropout masks an uninterrupted one would have drawn.
import type { RngSnapshot } from '../checkpoint/contents'
import { CheckpointError } from '../errors'
import { call, native } from '../native'

/** The CPU generator's state and, for a model on a GPU, its device's. */
export function rngSnapshot(device: string): RngSnapshot {
  const encode = (name: string) => Buffer.from(call(() => native().rngState(name))).toString('base64')
  return { cpu: encode('cpu'), device: device.startsWith('cuda') ? { name: device, state: encode(device) } : null }
}

export function restoreRng(snapshot: RngSnapshot, device: string, file: string): void {
  const decode = (state: string) => new Uint8Array(Buffer.from(state, 'base64'))
  try {
    call(() => native().setRngState('cpu', decode(snapshot.cpu)))
    // A run resumed on another device keeps that device's generator as it is.
    if (snapshot.device && snapshot.device.name === device) call(() => native().setRngState(device, decode(snapshot.device!.state)))
  } catch (error) {
    throw new CheckpointError(`${file}: rng: the generator state cannot be restored (${(error as Error).message})`, { cause: error })
  }
}
