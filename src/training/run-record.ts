// The run's own files as a callback: history.json after every epoch (and on interruption),
// report.json at the end. Each file is written beside, then renamed: never torn.
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Callback, FitContext } from './callbacks'
import type { TrainResult } from './train'

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.partial`, `${JSON.stringify(value, null, 2)}\n`)
  await rename(`${path}.partial`, path)
}

export function runRecord(dir: string): Callback {
  const history = (context: FitContext) => writeJson(join(dir, 'history.json'), context.history)
  return {
    onTrainBegin: async () => void (await mkdir(dir, { recursive: true })),
    onEpochEnd: (_end, context) => history(context),
    onInterrupt: history,
    async onTrainEnd(result: TrainResult, context: FitContext) {
      await history(context)
      const { source, test, timings, options, checkpoint, stopped } = result
      await writeJson(join(dir, 'report.json'), { source, device: result.model.device, options, test, timings, checkpoint, stopped, history: context.history })
    },
  }
}
