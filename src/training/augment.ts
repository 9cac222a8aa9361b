// Augmentation options: what the core applies to every training batch on the device
// (crates/core/src/augment.rs), checked here with train()'s field names.
import { invalidArgument } from '../errors'

export interface AugmentOptions {
  /** Pad each side with this many black pixels, then crop back at random (RandomCrop(padding)). */
  crop?: number
  /** Mirror left-right with probability 0.5 (RandomHorizontalFlip). */
  flip?: boolean
  /** Rotate by up to this many degrees either way (RandomAffine(degrees)). */
  rotate?: number
  /** Scale by a factor in [1 - scale, 1 + scale]. */
  scale?: number
  /** Shift by up to this fraction of the size on each axis. */
  translate?: number
}

const LIMITS: Record<Exclude<keyof AugmentOptions, 'flip'>, [number, number, string]> = {
  crop: [0, 64, 'an integer in [0, 64] (pixels of padding)'],
  rotate: [0, 180, 'degrees in [0, 180]'],
  scale: [0, 0.99, 'a fraction in [0, 1)'],
  translate: [0, 0.5, 'a fraction of the size in [0, 0.5]'],
}

export function checkAugment(context: string, augment: unknown): AugmentOptions | null {
  if (augment === undefined || augment === null || augment === false) return null
  if (typeof augment !== 'object' || Array.isArray(augment)) throw invalidArgument(context, 'augment', augment, 'an object such as { crop: 4, flip: true }')
  const fields = augment as Record<string, unknown>
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'flip') {
      if (typeof value !== 'boolean') throw invalidArgument(context, 'augment.flip', value, 'true or false')
      continue
    }
    const limit = LIMITS[key as keyof typeof LIMITS]
    if (!limit) throw invalidArgument(context, `augment.${key}`, value, `one of the fields crop, flip, rotate, scale, translate (not '${key}')`)
    const [min, max, expected] = limit
    if (typeof value !== 'number' || !(value >= min && value <= max) || (key === 'crop' && !Number.isInteger(value))) throw invalidArgument(context, `augment.${key}`, value, expected)
  }
  return { ...fields } as AugmentOptions
}

/** The CLI's --augment syntax: "crop=4,flip,rotate=10,scale=0.1,translate=0.1". */
export function parseAugment(text: string): AugmentOptions | null {
  const fields: Record<string, unknown> = {}
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value] = part.split('=', 2)
    fields[key.trim()] = value === undefined ? true : Number(value)
  }
  return checkAugment('--augment', fields)
}
