// Checkpoints of a run as a callback: the last position (every epoch, and when interrupted)
// and the best epoch by a monitored metric, in one run directory:
//   DIR/checkpoint -> checkpoints/epoch-003-batch-0469   the last (a link, switched atomically)
//   DIR/best       -> checkpoints/epoch-002-batch-0469   the best by `monitor`
import { readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pointerTarget, switchPointer } from '../checkpoint/atomic-directory'
import { BEST_POINTER, LAST_POINTER, writeCheckpoint } from '../checkpoint/checkpoint'
import { invalidArgument } from '../errors'
import type { Callback, EpochEnd, FitContext, Monitor, TrainBegin } from './callbacks'
import { checkMonitor, defaultMonitor, isImprovement, monitorMode, type Mode } from './monitor'

export interface CheckpointOptions {
  /** The run directory. */
  dir: string
  /** The metric that decides the best checkpoint (default 'validationAccuracy' where the run has a
   *  validation set, else 'testAccuracy'); null keeps no best. */
  monitor?: Monitor | null
  /** Default: 'min' for losses, 'max' for accuracies. */
  mode?: Mode
  /** Keep the last position, every epoch and on interruption (default true). */
  saveLast?: boolean
  /** How many of the latest epoch checkpoints to keep (a count of epochs), the best one aside (default 1). */
  keep?: number
}

interface CheckpointState {
  best: { value: number; epoch: number; version: string } | null
  /** Version directories of the latest saves, oldest first. */
  recent: string[]
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')

export class CheckpointCallback implements Callback {
  readonly name = 'checkpoint'
  readonly dir: string
  monitor: Monitor | null
  mode: Mode
  /** The monitor is chosen when training begins (validation if the run has it). */
  private readonly monitorByDefault: boolean
  readonly saveLast: boolean
  readonly keep: number
  private state: CheckpointState = { best: null, recent: [] }
  /** The last checkpoint written by this process or restored with the run (its pointer). */
  last: string | null = null

  constructor(options: CheckpointOptions) {
    const context = 'checkpoint()'
    if (typeof options?.dir !== 'string' || options.dir === '') throw invalidArgument(context, 'dir', options?.dir, 'a directory path')
    this.dir = options.dir
    this.monitorByDefault = options.monitor === undefined
    this.monitor = options.monitor === undefined ? 'testAccuracy' : options.monitor === null ? null : checkMonitor(context, options.monitor)
    this.mode = monitorMode(context, this.monitor, options.mode)
    this.saveLast = options.saveLast ?? true
    this.keep = options.keep ?? 1
    if (!Number.isInteger(this.keep) || this.keep < 1) throw invalidArgument(context, 'keep', options.keep, 'a positive integer')
    if (!this.saveLast && this.monitor === null) throw invalidArgument(context, 'saveLast', false, 'true when monitor is null (nothing would be saved)')
  }

  onTrainBegin(info: TrainBegin): void {
    if (this.monitorByDefault) this.monitor = defaultMonitor('Accuracy', info.validationCount)
  }

  /** The best checkpoint so far (its pointer), or null. */
  get best(): string | null {
    return this.state.best ? join(this.dir, BEST_POINTER) : null
  }

  async onEpochEnd(end: EpochEnd, context: FitContext): Promise<void> {
    const value = this.monitor === null ? null : end[this.monitor]
    const improved = value !== null && isImprovement(this.mode, value, this.state.best?.value ?? null, 0)
    if (!this.saveLast && !improved) return
    const version = await this.newVersion(context)
    if (improved) this.state.best = { value, epoch: end.epoch, version }
    await this.save(context, version, improved)
  }

  async onInterrupt(context: FitContext): Promise<void> {
    if (this.saveLast) await this.save(context, await this.newVersion(context), false)
  }

  private async newVersion(context: FitContext): Promise<string> {
    const base = join(this.dir, 'checkpoints', `epoch-${pad(context.loop.epoch, 3)}-batch-${pad(context.loop.batch, 4)}`)
    const taken = new Set(await readdir(join(this.dir, 'checkpoints')).catch(() => [] as string[]))
    let version = base
    for (let n = 2; taken.has(version.slice(version.lastIndexOf('/') + 1)); n++) version = `${base}-${n}`
    return resolve(version)
  }

  private async save(context: FitContext, version: string, best: boolean): Promise<void> {
    this.state.recent = [...this.state.recent, version].slice(-this.keep)
    const pointer = join(this.dir, this.saveLast ? LAST_POINTER : BEST_POINTER)
    await writeCheckpoint(pointer, context.model, context.trainingState(), version)
    if (best && this.saveLast) await switchPointer(join(this.dir, BEST_POINTER), version)
    if (this.saveLast) this.last = join(this.dir, LAST_POINTER)
    await this.removeUnreferenced()
  }

  /** Deletes the versions that neither a pointer nor `keep` holds on to. */
  private async removeUnreferenced(): Promise<void> {
    const held = new Set(this.state.recent)
    for (const pointer of [LAST_POINTER, BEST_POINTER]) {
      const target = await pointerTarget(join(this.dir, pointer))
      if (target) held.add(resolve(target))
    }
    const store = join(this.dir, 'checkpoints')
    for (const name of await readdir(store)) {
      const path = resolve(store, name)
      if (!held.has(path) && !name.endsWith('.partial')) await rm(path, { recursive: true, force: true })
    }
  }

  stateDict(): CheckpointState {
    return this.state
  }

  loadStateDict(state: unknown): void {
    const saved = state as CheckpointState
    this.state = { best: saved.best ?? null, recent: saved.recent ?? [] }
    this.last = join(this.dir, LAST_POINTER)
  }
}

/** Checkpoints the last position and the best epoch of a run into `dir` (see CheckpointOptions). */
export function checkpoint(options: CheckpointOptions): CheckpointCallback {
  return new CheckpointCallback(options)
}
