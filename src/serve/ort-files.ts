// The files of the installed onnxruntime-web that the page loads: its wasm-only browser build
// and the WebAssembly runtime that build imports. The server reads them from node_modules, so
// the page needs no CDN and works offline.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { InternalError } from '../errors'

/** URL path prefix under which the files are served, and ort.env.wasm.wasmPaths of the page. */
export const ORT_PREFIX = '/ort/'

export const ORT_FILES: Record<string, string> = {
  // The wasm backend only: no WebGL or WebGPU code for a model this small.
  'ort.wasm.min.js': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.wasm': 'application/wasm',
}

export interface OrtFile {
  body: Buffer
  type: string
}

/** onnxruntime-web's dist/ folder (its package.json is not exported: found through a build). */
function ortDist(): string {
  try {
    return dirname(require.resolve('onnxruntime-web/wasm'))
  } catch (error) {
    throw new InternalError('onnxruntime-web is not installed (a dependency of convtorch: reinstall it)', { cause: error })
  }
}

/** Each file by its URL path, read once; a missing one is an InternalError naming it. */
export function readOrtFiles(): Map<string, OrtFile> {
  const dist = ortDist()
  return new Map(
    Object.entries(ORT_FILES).map(([name, type]) => {
      try {
        return [`${ORT_PREFIX}${name}`, { body: readFileSync(join(dist, name)), type }]
      } catch (error) {
        throw new InternalError(`onnxruntime-web has no ${join(dist, name)}: its version is not the one convtorch was built for`, { cause: error })
      }
    }),
  )
}

/** The installed onnxruntime-web's version, shown on the page. */
export function ortVersion(): string {
  return (JSON.parse(readFileSync(join(ortDist(), '..', 'package.json'), 'utf8')) as { version: string }).version
}
