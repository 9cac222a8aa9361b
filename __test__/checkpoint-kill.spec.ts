import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Model, readCheckpoint } from '../src/index'

const KILLS = 200

/** Starts the save loop, lets it run for `ms` after its first line, then kill -9. */
function killDuringSaves(dir: string, firstStep: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'helpers', 'save-loop.js'), dir, String(firstStep)], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.once('error', reject)
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), ms))
    child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the save loop ended by itself (exit code ${code})`))))
  })
}

test(`kill -9 at ${KILLS} random moments of a save loop never leaves a torn checkpoint`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'convtorch-kill-'))
  let staged = 0
  let previous = 0
  for (let kill = 0; kill < KILLS; kill++) {
    await killDuringSaves(dir, previous + 1, Math.random() * 40)
    // A save cut short leaves its staging directory, which the next writer removes.
    if ((await readdir(join(dir, 'checkpoints')).catch(() => [] as string[])).some((name) => name.endsWith('.partial'))) staged++
    if (!existsSync(join(dir, 'checkpoint'))) continue // killed before the first save finished
    const saved = await readCheckpoint(dir)
    const step = saved.training!.loop.step
    const model = await Model.load(dir, { device: 'cpu' })
    const mixed = model.parameterNames().filter((name) => model.parameter(name).values.some((v) => v !== step))
    t.deepEqual(mixed, [], `after kill ${kill}: the weights of checkpoint step ${step} are whole`)
    t.true(step >= previous, 'a later checkpoint never goes back')
    previous = step
    model.dispose()
  }
  t.log(`${KILLS} kills; ${staged} interrupted a save mid-write; the last checkpoint was step ${previous}`)
  t.true(previous > KILLS / 10, `saves completed between kills (last step ${previous})`)
  t.true(staged > KILLS / 10, `the kills landed inside saves (${staged} of ${KILLS})`)
})
