// A child process for the kill -9 test: saves training checkpoints into one run directory as
// fast as it can, each one whole only if its weights all equal its loop step.
// Usage: node save-loop.js RUN_DIR FIRST_STEP
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Model, writeCheckpoint, type TrainingState } from '../../src/index'

async function main() {
  const [dir, first] = process.argv.slice(2)
  const model = Model.create({ device: 'cpu', optimizer: { kind: 'adam', lr: 0.001 } })
  const names = model.parameterNames()
  const sizes = names.map((name) => model.parameter(name).values.length)
  process.stdout.write('ready\n')
  for (let step = Number(first); ; step++) {
    names.forEach((name, i) => model.setParameter(name, new Float32Array(sizes[i]).fill(step)))
    const state: TrainingState = {
      format: 'convtorch-training',
      version: 1,
      loop: { epoch: 1, batch: step, epochDone: false, step, epochLosses: Array.from({ length: step }, () => 0), elapsed: 0 },
      options: { optimizer: model.optimizer } as TrainingState['options'],
      data: { argument: null, source: 'save-loop', trainCount: 1, testCount: 1 },
      history: [],
      callbacks: {},
      rng: model.rngState(),
    }
    const { previous } = await writeCheckpoint(join(dir, 'checkpoint'), model, state, join(dir, 'checkpoints', `step-${step}`))
    if (previous) await rm(previous, { recursive: true, force: true })
  }
}

void main()
