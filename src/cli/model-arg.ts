import { readFileSync } from 'node:fs'
import { checkModelDescription, MODEL_FORMAT } from '../checkpoint/contents'
import { ModelSpecError } from '../errors'
import { presets, type PresetName } from '../model/presets'
import { inferShapes } from '../model/shapes'
import type { ModelSpec } from '../model/spec'

/** --model: a preset name, a spec JSON file, or a checkpoint's model.json (its spec is used). */
export function modelArgument(raw: string | undefined): PresetName | ModelSpec | undefined {
  if (raw === undefined || Object.hasOwn(presets, raw)) return raw as PresetName | undefined
  let text: string
  try {
    text = readFileSync(raw, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const hint = code === 'EISDIR' ? ' (a directory: commands that load trained models take run and checkpoint directories)' : ''
    throw new ModelSpecError(`--model '${raw}' is neither a preset (${Object.keys(presets).join(', ')}) nor a readable spec file: ${code ?? (error as Error).message}${hint}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ModelSpecError(`${raw} is not valid JSON: ${(error as Error).message}`)
  }
  // convtorch's own model file wraps the spec with the optimizer, seed and normalisation.
  if (typeof json === 'object' && json !== null && (json as { format?: unknown }).format === MODEL_FORMAT) return checkModelDescription(raw, json).spec
  // The one validator, run as the file is read, so every command refuses the same specs alike
  // (a file holding null is not "no --model").
  try {
    inferShapes(json as ModelSpec)
  } catch (error) {
    throw new ModelSpecError(`${raw}: ${(error as Error).message}`, { cause: error })
  }
  return json as ModelSpec
}
