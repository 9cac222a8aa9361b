// Where downloads and decoded image folders are cached.
import { homedir } from 'node:os'
import { join } from 'node:path'

/** $XDG_CACHE_HOME/convtorch/datasets, or ~/.cache/convtorch/datasets. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'convtorch', 'datasets')
}
