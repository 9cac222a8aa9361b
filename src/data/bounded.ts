// Bounded concurrency over a list: sharp's work runs on libuv's pool, so a few calls in flight
// keep every pool thread busy while thousands at once would only queue and hold memory.

/**
 * Runs `work` on every item, at most `limit` at a time, taking items in index order. On a
 * failure no new item starts; once the ones in flight settle, the failure of the lowest index
 * is thrown, so the error names the same item on every run.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  const failures = new Map<number, unknown>()
  const worker = async () => {
    while (next < items.length && failures.size === 0) {
      const index = next++
      try {
        await work(items[index], index)
      } catch (error) {
        failures.set(index, error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()))
}
