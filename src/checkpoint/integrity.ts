// A checkpoint's checksums: model.json (from version 3) records the SHA-256 of its tensor files
// and of its spec, and the reader verifies them. Without them a flipped byte loaded as NaN, a
// dtype edited in a safetensors header loaded as garbage, and a spec edited to another of the
// same shapes (relu -> tanh) loaded silently as a different model.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { CheckpointError } from '../errors'

export interface Integrity {
  algorithm: 'sha256'
  /** Of weights.safetensors. */
  weights: string
  /** Of optimizer.safetensors, where there is one. */
  optimizer: string | null
  /** Of the spec as canonical JSON (keys sorted), so reformatting model.json changes nothing. */
  spec: string
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** JSON with every object's keys sorted: the same value always gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

async function fileDigest(path: string): Promise<string> {
  return sha256(await readFile(path))
}

export async function computeIntegrity(spec: unknown, weights: string, optimizer: string | null): Promise<Integrity> {
  return { algorithm: 'sha256', weights: await fileDigest(weights), optimizer: optimizer === null ? null : await fileDigest(optimizer), spec: sha256(canonicalJson(spec)) }
}

const HEX = /^[0-9a-f]{64}$/

/** Checks the shape of model.json's `integrity` field. */
export function checkIntegrityField(file: string, value: unknown): Integrity {
  const v = value as Partial<Integrity> | null
  const ok = typeof v === 'object' && v !== null && v.algorithm === 'sha256' && typeof v.weights === 'string' && HEX.test(v.weights) && typeof v.spec === 'string' && HEX.test(v.spec) && (v.optimizer === null || (typeof v.optimizer === 'string' && HEX.test(v.optimizer)))
  if (!ok) throw new CheckpointError(`${file}: integrity must be { algorithm: 'sha256', weights, optimizer, spec } (hex digests); the file was edited or is not convtorch's`)
  return v as Integrity
}

/** Refuses a checkpoint whose files or spec are not the ones its model.json was written with. */
export async function verifyIntegrity(modelFile: string, expected: Integrity, spec: unknown, weights: string, optimizer: string | null): Promise<void> {
  const actual = await computeIntegrity(spec, weights, expected.optimizer === null ? null : optimizer)
  const changed = (what: string, path: string) =>
    new CheckpointError(`${path}: ${what} is not what ${modelFile} recorded when it was saved (SHA-256 differs): the file was changed or damaged after saving; restore it, or use another checkpoint`)
  if (actual.weights !== expected.weights) throw changed('the weights file', weights)
  if (expected.optimizer !== null && (optimizer === null || actual.optimizer !== expected.optimizer)) throw changed('the optimizer state', optimizer ?? 'optimizer.safetensors')
  if (actual.spec !== expected.spec) throw changed('its spec', modelFile)
}
