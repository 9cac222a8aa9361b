// Learning-rate schedules, with PyTorch's formulas (torch.optim.lr_scheduler), applied per
// epoch or per step. A schedule is a pure function of the position, so resuming is exact.
import { invalidArgument } from '../errors'

export type SchedulePer = 'epoch' | 'step'

export type ScheduleOptions =
  | { kind: 'constant' }
  /** StepLR: lr * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma?: number; per?: SchedulePer }
  /** ExponentialLR: lr * gamma^t. */
  | { kind: 'exponential'; gamma: number; per?: SchedulePer }
  /** CosineAnnealingLR over the whole run: minLr + (lr - minLr)(1 + cos(pi t / T)) / 2. */
  | { kind: 'cosine'; minLr?: number; per?: SchedulePer }
  /** OneCycleLR (cosine annealing, two phases), always per step; momentum is not cycled. */
  | { kind: 'oneCycle'; maxLr: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }

export const SCHEDULE_KINDS = ['constant', 'step', 'exponential', 'cosine', 'oneCycle'] as const

export function schedulePer(schedule: ScheduleOptions): SchedulePer {
  if (schedule.kind === 'oneCycle') return 'step'
  if (schedule.kind === 'constant') return 'epoch'
  return schedule.per ?? 'epoch'
}

function cosineBetween(start: number, end: number, fraction: number): number {
  return end + ((start - end) * (1 + Math.cos(Math.PI * fraction))) / 2
}

/** The learning rate at position t (0-based epoch or step) of `total`. */
export function learningRateAt(schedule: ScheduleOptions, baseLr: number, t: number, total: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr
    case 'step':
      return baseLr * (schedule.gamma ?? 0.1) ** Math.floor(t / schedule.stepSize)
    case 'exponential':
      return baseLr * schedule.gamma ** t
    case 'cosine': {
      const minLr = schedule.minLr ?? 0
      return cosineBetween(baseLr, minLr, Math.min(t, total) / total)
    }
    case 'oneCycle': {
      const initial = schedule.maxLr / (schedule.divFactor ?? 25)
      const final = initial / (schedule.finalDivFactor ?? 1e4)
      const peakStep = (schedule.pctStart ?? 0.3) * total - 1
      const lastStep = total - 1
      if (t <= peakStep) return cosineBetween(initial, schedule.maxLr, t / peakStep)
      return cosineBetween(schedule.maxLr, final, (t - peakStep) / (lastStep - peakStep))
    }
  }
}

export function checkSchedule(context: string, schedule: ScheduleOptions): ScheduleOptions {
  if (typeof schedule !== 'object' || schedule === null || !SCHEDULE_KINDS.includes(schedule.kind)) {
    throw invalidArgument(context, 'schedule.kind', (schedule as { kind?: unknown } | null)?.kind, `one of ${SCHEDULE_KINDS.map((k) => `'${k}'`).join(', ')}`)
  }
  const positive = (field: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalidArgument(context, `schedule.${field}`, value, 'a finite number > 0')
  }
  if ('per' in schedule && schedule.per !== undefined && schedule.per !== 'epoch' && schedule.per !== 'step') {
    throw invalidArgument(context, 'schedule.per', schedule.per, "'epoch' or 'step'")
  }
  switch (schedule.kind) {
    case 'step':
      if (!Number.isInteger(schedule.stepSize) || schedule.stepSize < 1) throw invalidArgument(context, 'schedule.stepSize', schedule.stepSize, 'a positive integer')
      if (schedule.gamma !== undefined) positive('gamma', schedule.gamma)
      break
    case 'exponential':
      positive('gamma', schedule.gamma)
      break
    case 'cosine':
      if (schedule.minLr !== undefined && !(Number.isFinite(schedule.minLr) && schedule.minLr >= 0)) {
        throw invalidArgument(context, 'schedule.minLr', schedule.minLr, 'a finite number >= 0')
      }
      break
    case 'oneCycle': {
      positive('maxLr', schedule.maxLr)
      const pct = schedule.pctStart ?? 0.3
      if (!(pct > 0 && pct < 1)) throw invalidArgument(context, 'schedule.pctStart', pct, 'a number in (0, 1)')
      if (schedule.divFactor !== undefined) positive('divFactor', schedule.divFactor)
      if (schedule.finalDivFactor !== undefined) positive('finalDivFactor', schedule.finalDivFactor)
      break
    }
  }
  return schedule
}

/** "cosine", "step:stepSize=3,gamma=0.1", "oneCycle:maxLr=0.1": the CLI's --schedule syntax. */
export function parseSchedule(text: string): ScheduleOptions {
  const [kind, rest] = text.split(':', 2)
  const fields: Record<string, string | number> = { kind: kind === 'one-cycle' ? 'oneCycle' : kind }
  for (const pair of (rest ?? '').split(',').filter(Boolean)) {
    const [key, value] = pair.split('=', 2)
    if (value === undefined) throw invalidArgument('--schedule', key, pair, 'key=value')
    fields[key] = key === 'per' ? value : Number(value)
  }
  return checkSchedule('--schedule', fields as unknown as ScheduleOptions)
}
