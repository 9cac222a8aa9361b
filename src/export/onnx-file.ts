// A saved model (a run or checkpoint directory) written out as a .onnx file.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { invalidArgument } from '../errors'
import { Model } from '../model/model'

export interface OnnxFileResult {
  out: string
  bytes: number
  classNames: string[] | null
}

/** Loads `modelDir` on the CPU and writes its ONNX export to `out` (a .onnx path). */
export async function exportOnnxFile(modelDir: string, out: string): Promise<OnnxFileResult> {
  if (typeof out !== 'string' || !out.endsWith('.onnx')) throw invalidArgument('exportOnnxFile()', 'out', out, 'a path ending in .onnx')
  const model = await Model.load(modelDir, { device: 'cpu' })
  try {
    const bytes = model.exportOnnx()
    await mkdir(dirname(out) || '.', { recursive: true })
    await writeFile(out, bytes)
    return { out, bytes: bytes.length, classNames: model.classNames }
  } finally {
    model.dispose()
  }
}
