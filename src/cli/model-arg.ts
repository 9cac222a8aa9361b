import { readFileSync } from 'node:fs'
import { ModelSpecError } from '../errors'
import { presets } from '../model/presets'
import type { ModelSpec } from '../model/spec'

/** --model: a preset name or the path of a spec JSON file. */
export function modelArgument(raw: string | undefined): string | ModelSpec | undefined {
  if (raw === undefined || Object.hasOwn(presets, raw)) return raw
  let text: string
  try {
    text = readFileSync(raw, 'utf8')
  } catch (error) {
    throw new ModelSpecError(`--model '${raw}' is neither a preset (${Object.keys(presets).join(', ')}) nor a readable spec file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  try {
    return JSON.parse(text) as ModelSpec
  } catch (error) {
    throw new ModelSpecError(`${raw} is not valid JSON: ${(error as Error).message}`)
  }
}
