// Where `convtorch train` puts a run when --out is not given: a new directory per run under
// runs/, named by its start time (runs/2025-06-01_14-03-22), and runs/latest, a link switched
// to the newest run when it starts training. Old runs are kept, as Lightning keeps version_N.
import { lstat, mkdir, readdir, rename, rmdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { switchPointer } from '../checkpoint/atomic-directory'
import type { Callback } from '../training/callbacks'

export const RUNS_DIR = 'runs'
export const LATEST = 'latest'

const pad = (n: number) => String(n).padStart(2, '0')

/** Local time, sortable as text: 2025-06-01_14-03-22. */
export function runName(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`
}

/** Creates (reserves) a new run directory under `runs`; runs started in the same second get _2, _3. */
export async function newRunDirectory(runs: string, now = new Date()): Promise<string> {
  await mkdir(runs, { recursive: true })
  const base = join(runs, runName(now))
  for (let n = 1; ; n++) {
    const dir = n === 1 ? base : `${base}_${n}`
    try {
      await mkdir(dir)
      return dir
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}

/** Points runs/latest at `dir`. A real directory there (the layout before run history) is kept, renamed by its time. */
export async function pointLatest(runs: string, dir: string): Promise<string | null> {
  const latest = join(runs, LATEST)
  let moved: string | null = null
  const kind = await lstat(latest).catch(() => null)
  if (kind?.isDirectory()) {
    moved = await newRunDirectory(runs, (await stat(latest)).mtime)
    await rmdir(moved)
    await rename(latest, moved)
  }
  await switchPointer(latest, dir)
  return moved
}

/** A callback that switches runs/latest to this run once training has begun (its options are valid). */
export function latestLink(runs: string, dir: string, onMoved: (from: string, to: string) => void): Callback {
  return {
    onTrainBegin: async () => {
      const moved = await pointLatest(runs, dir)
      if (moved) onMoved(join(runs, LATEST), moved)
    },
  }
}

/** Removes a reserved run directory that nothing was written to (the run failed before it began). */
export async function removeIfEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => null)
  if (entries?.length === 0) await rmdir(dir)
}
